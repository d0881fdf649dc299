// Grafana's app router: react-router-dom v6's API under the compat package's name. It is
// installed beside @grafana/ui, where the host's bundler finds it; these are its types.
declare module 'react-router-dom-v5-compat' {
  export * from 'react-router-dom';
}
