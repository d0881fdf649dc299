/// <reference types="systemjs" />
import './boot';
import * as emotionCss from '@emotion/css';
import * as emotionReact from '@emotion/react';
import * as grafanaData from '@grafana/data';
import {
  createTheme,
  dataFrameFromJSON,
  dateTime,
  LoadingState,
  PluginType,
  standardEditorsRegistry,
  ThemeContext,
  type AppPlugin,
  type AppPluginMeta,
  type DataFrame,
  type DataFrameJSON,
  type GrafanaTheme2,
  type PanelPlugin,
  type PanelPluginMeta,
} from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import { getBackendSrv, setBackendSrv, type PluginPageProps } from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import { GlobalStyles, PanelChrome, useStyles2 } from '@grafana/ui';
import { css } from '@emotion/css';
import * as lodash from 'lodash';
import * as react from 'react';
import React, { useEffect, useState, type ComponentType } from 'react';
import * as reactJsxRuntime from 'react/jsx-runtime';
import * as reactDom from 'react-dom';
import * as reactDomClient from 'react-dom/client';
import * as reactRouterDom from 'react-router-dom';
import * as reactRouterCompat from 'react-router-dom-v5-compat';
import { BrowserRouter, Link, Route, Routes, useLocation } from 'react-router-dom-v5-compat';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';
import { lastValueFrom } from 'rxjs';
import { setPluginPage } from 'harness-plugin-page';
import './systemjs';
import { harnessBackendSrv } from '../backendSrv';

/**
 * A page that stands in for Grafana's frontend: it provides the shared
 * dependencies to plugins as Grafana's plugin loader does (SystemJS import map
 * entries `package:<name>`, public/app/features/plugins/loader), imports the
 * built plugin's dist/module.js with SystemJS and its AMD extra, and mounts
 * what the exported `plugin` objects declare: the app's root page, its
 * configuration page and the nested panel. The same source is bundled once
 * per Grafana runtime (npm packages of one Grafana release and its React).
 */

declare const GRAFANA_VERSION: string;

const APP_ID = 'incidentlens-analytics-app';
const PANEL_ID = 'incidentlens-incidents-panel';
const DATASOURCE = { uid: 'incident-lens-pg', type: 'grafana-postgresql-datasource' };

// Grafana's list (sharedDependencies.ts) for the packages a React plugin can import.
// 'react-router' is react-router-dom-v5-compat there: the v6 API of the router Grafana itself runs.
const SHARED_DEPENDENCIES: Record<string, object> = {
  '@emotion/css': emotionCss,
  '@emotion/react': emotionReact,
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
  lodash: { ...lodash, __useDefault: true },
  react,
  'react/jsx-runtime': reactJsxRuntime,
  'react-dom': reactDom,
  'react-dom/client': reactDomClient,
  'react-router-dom': reactRouterDom,
  'react-router': reactRouterCompat,
  rxjs,
  'rxjs/operators': rxjsOperators,
};

function registerSharedDependencies(): void {
  const imports: Record<string, string> = {};
  for (const [name, module] of Object.entries(SHARED_DEPENDENCIES)) {
    System.set(`package:${name}`, module as System.Module);
    imports[name] = `package:${name}`;
  }
  System.addImportMap({ imports });
}

interface PluginSettings {
  enabled: boolean;
  pinned: boolean;
  jsonData: Record<string, unknown>;
}

interface PluginJson {
  id: string;
  name: string;
  info: AppPluginMeta['info'];
  includes?: Array<{ type: string; name: string; path?: string }>;
}

// The app's pages as its dist/plugin.json lists them; Grafana builds its navigation from them.
let appPages: Array<{ name: string; path: string }> = [];

/** The meta Grafana's backend serves for a plugin: its plugin.json, where its files are, its settings. */
async function pluginMeta<T extends AppPluginMeta | PanelPluginMeta>(
  id: string,
  type: PluginType,
  settings?: PluginSettings
): Promise<T> {
  const baseUrl = `public/plugins/${id}`;
  const response = await fetch(`/${baseUrl}/plugin.json`);
  if (!response.ok) {
    throw new Error(`${baseUrl}/plugin.json: HTTP ${response.status}`);
  }
  const pluginJson = (await response.json()) as PluginJson;
  return {
    ...pluginJson,
    type,
    module: `${baseUrl}/module.js`,
    baseUrl,
    enabled: settings?.enabled ?? true,
    pinned: settings?.pinned ?? true,
    jsonData: settings?.jsonData ?? {},
  } as unknown as T;
}

/** What Grafana's importAppPlugin does: import module.js, then hand the plugin its meta. */
async function importAppPlugin(): Promise<AppPlugin> {
  const settings = await getBackendSrv().get<PluginSettings>(`/api/plugins/${APP_ID}/settings`);
  const meta = await pluginMeta<AppPluginMeta>(APP_ID, PluginType.app, settings);
  appPages = (meta.includes ?? []).flatMap((include) =>
    include.type === 'page' && include.path ? [{ name: include.name, path: include.path }] : []
  );
  const exports = (await System.import(`/${meta.module}`)) as { plugin?: AppPlugin };
  if (!exports.plugin) {
    throw new Error(`${meta.module} exports no plugin`);
  }
  exports.plugin.init(meta);
  exports.plugin.meta = meta;
  return exports.plugin;
}

async function importPanelPlugin(): Promise<PanelPlugin> {
  const meta = await pluginMeta<PanelPluginMeta>(PANEL_ID, PluginType.panel);
  const exports = (await System.import(`/${meta.module}`)) as { plugin?: PanelPlugin };
  if (!exports.plugin) {
    throw new Error(`${meta.module} exports no plugin`);
  }
  exports.plugin.meta = meta;
  return exports.plugin;
}

/** Grafana's page chrome, reduced to the title, subtitle and actions a plugin page passes. */
function HostPluginPage({ children, subTitle, actions, pageNav }: PluginPageProps) {
  const styles = useStyles2(getStyles);
  const location = useLocation();
  const title = pageNav?.text ?? appPages.find((page) => location.pathname.startsWith(page.path))?.name;
  return (
    <div className={styles.page}>
      <header className={styles.header}>
        <h1 className={styles.title}>{title}</h1>
        {subTitle && <div className={styles.subTitle}>{subTitle}</div>}
        {actions}
      </header>
      {children}
    </div>
  );
}

function useImported<T>(load: () => Promise<T>): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    load().then(
      (value) => setState({ value }),
      (error: Error) => {
        console.error(error);
        setState({ error: error.message });
      }
    );
    // Loaded once per mount, as Grafana caches the plugin's module.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return state;
}

function Failure({ message }: { message: string }) {
  return <div role="alert">Plugin failed to load: {message}</div>;
}

/** The route /a/<app id>/*: Grafana's AppRootPage rendering the plugin's root component. */
function AppRootPage() {
  const { value: plugin, error } = useImported(importAppPlugin);
  if (error) {
    return <Failure message={error} />;
  }
  if (!plugin) {
    return null;
  }
  const Root = plugin.root as ComponentType<Record<string, unknown>> | undefined;
  if (!Root) {
    return <Failure message="the app plugin has no root page" />;
  }
  return <Root meta={plugin.meta} basename={`/a/${APP_ID}`} path={`/a/${APP_ID}`} query={{}} onNavChanged={() => {}} />;
}

/** The route /plugins/<app id>?page=<id>: a tab of the plugin's configuration, as the plugin details page shows it. */
function AppConfigTab() {
  const { value: plugin, error } = useImported(importAppPlugin);
  const pageId = new URLSearchParams(useLocation().search).get('page');
  if (error) {
    return <Failure message={error} />;
  }
  if (!plugin) {
    return null;
  }
  const page = plugin.configPages?.find((candidate) => candidate.id === pageId);
  if (!page) {
    return <Failure message={`the app plugin has no configuration page '${pageId}'`} />;
  }
  return (
    <HostPluginPage pageNav={{ text: page.title }}>
      <page.body plugin={plugin} query={{}} />
    </HostPluginPage>
  );
}

const PANEL_SQL =
  "SELECT * FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), 'UTC') WHERE NOT merged LIMIT 12";

/** The query a dashboard panel sends through the PostgreSQL datasource, as DataSourceWithBackend would. */
async function queryPanelData(from: number, to: number): Promise<DataFrame[]> {
  const response = await lastValueFrom(
    getBackendSrv().fetch<{ results: Record<string, { frames?: DataFrameJSON[]; error?: string }> }>({
      url: '/api/ds/query',
      method: 'POST',
      data: {
        queries: [{ refId: 'A', datasource: DATASOURCE, rawSql: PANEL_SQL, format: 'table', rawQuery: true }],
        from: String(from),
        to: String(to),
      },
    })
  );
  const result = response.data.results.A;
  if (result?.error) {
    throw new Error(result.error);
  }
  return (result?.frames ?? []).map((frame) => dataFrameFromJSON(frame));
}

/** The route /d/incidents: the nested panel in a dashboard, with the options its plugin declares as defaults. */
function PanelInDashboard() {
  const { value, error } = useImported(async () => {
    const to = Date.now();
    const from = to - 30 * 86_400_000;
    const [plugin, series] = await Promise.all([importPanelPlugin(), queryPanelData(from, to)]);
    return { plugin, series, from, to };
  });
  if (error) {
    return <Failure message={error} />;
  }
  if (!value) {
    return null;
  }
  const Panel = value.plugin.panel;
  if (!Panel) {
    return <Failure message="the panel plugin has no panel component" />;
  }
  const timeRange = { from: dateTime(value.from), to: dateTime(value.to), raw: { from: 'now-30d', to: 'now' } };
  return (
    <HostPluginPage pageNav={{ text: 'Incidents panel in a dashboard' }}>
      <PanelChrome title="Recent incidents" width={1180} height={640}>
        {(width, height) => (
          <Panel
            id={1}
            data={{ series: value.series, state: LoadingState.Done, timeRange }}
            timeRange={timeRange}
            timeZone="utc"
            options={value.plugin.defaults}
            onOptionsChange={() => {}}
            onFieldConfigChange={() => {}}
            onChangeTimeRange={() => {}}
            fieldConfig={{ defaults: {}, overrides: [] }}
            transparent={false}
            width={width}
            height={height}
            renderCounter={0}
            title="Recent incidents"
            eventBus={undefined as never}
            replaceVariables={(text: string) => text}
          />
        )}
      </PanelChrome>
    </HostPluginPage>
  );
}

function Host() {
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.shell}>
      <nav className={styles.nav} aria-label="Grafana">
        <div className={styles.brand}>Grafana {GRAFANA_VERSION}</div>
        <Link to={`/a/${APP_ID}`}>Incident Lens</Link>
        <Link to={`/plugins/${APP_ID}?page=configuration`}>Plugin configuration</Link>
        <Link to="/d/incidents">Dashboard with the panel</Link>
      </nav>
      <main className={styles.main}>
        <Routes>
          <Route path={`/a/${APP_ID}/*`} element={<AppRootPage />} />
          <Route path={`/plugins/${APP_ID}`} element={<AppConfigTab />} />
          <Route path="/d/incidents" element={<PanelInDashboard />} />
        </Routes>
      </main>
    </div>
  );
}

// Grafana registers its option editors at start; panel option builders look them up by id.
// The host never opens the panel editor, so the editors themselves render nothing.
const OPTION_EDITOR_IDS = [
  'boolean',
  'number',
  'text',
  'select',
  'radio',
  'color',
  'unit',
  'slider',
  'strings',
  'multiSelect',
];
standardEditorsRegistry.setInit(() => OPTION_EDITOR_IDS.map((id) => ({ id, name: id, editor: () => null })));
setPluginPage(HostPluginPage);
setBackendSrv(harnessBackendSrv);
registerSharedDependencies();

const theme = createTheme({ colors: { mode: 'dark' } });
reactDomClient.createRoot(document.getElementById('root')!).render(
  <ThemeContext.Provider value={theme}>
    <GlobalStyles />
    <BrowserRouter>
      <Host />
    </BrowserRouter>
  </ThemeContext.Provider>
);

function getStyles(theme: GrafanaTheme2) {
  return {
    shell: css({ display: 'flex', minHeight: '100vh', background: theme.colors.background.canvas }),
    nav: css({
      width: 210,
      flexShrink: 0,
      display: 'flex',
      flexDirection: 'column',
      gap: theme.spacing(1),
      padding: theme.spacing(2),
      background: theme.colors.background.primary,
      borderRight: `1px solid ${theme.colors.border.weak}`,
    }),
    brand: css({ fontWeight: theme.typography.fontWeightBold }),
    main: css({ flexGrow: 1, minWidth: 0, padding: theme.spacing(2, 3) }),
    page: css({ display: 'flex', flexDirection: 'column' }),
    header: css({ marginBottom: theme.spacing(2) }),
    title: css({ fontSize: theme.typography.h2.fontSize, margin: 0 }),
    subTitle: css({ color: theme.colors.text.secondary, marginTop: theme.spacing(0.5) }),
  };
}
