// The boot data Grafana's index.html writes before any of its code runs;
// @grafana/runtime reads it once, when it is first evaluated.
declare const GRAFANA_VERSION: string;

const bootWindow = window as unknown as { grafanaBootData: unknown };
bootWindow.grafanaBootData = {
  assets: { dark: '', light: '' },
  settings: {
    appSubUrl: '',
    appUrl: `${window.location.origin}/`,
    buildInfo: { version: GRAFANA_VERSION, edition: 'Open Source' },
    featureToggles: {},
    datasources: {},
    panels: {},
    bootData: {},
  },
  user: { timezone: 'utc', theme: 'dark', orgRole: 'Admin', isSignedIn: true, id: 1, permissions: {} },
  navTree: [],
};
export {};
