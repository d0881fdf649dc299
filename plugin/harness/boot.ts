// @grafana/runtime reads window.grafanaBootData when it is first imported;
// this module runs before it, as Grafana's index.html does.
const bootWindow = window as unknown as { grafanaBootData: unknown };
bootWindow.grafanaBootData = {
  assets: { dark: '', light: '' },
  settings: { appSubUrl: '', buildInfo: { version: '13.1.1' }, featureToggles: {}, datasources: {}, panels: {} },
  user: { timezone: 'utc', theme: 'dark', orgRole: 'Admin', isSignedIn: true, id: 1 },
  navTree: [],
};
export {};
