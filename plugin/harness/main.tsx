import './boot';
import {
  createTheme,
  dateTime,
  LoadingState,
  PluginType,
  ThemeContext,
  type AppPluginMeta,
  type DataFrame,
  type GrafanaTheme2,
} from '@grafana/data';
import { css } from '@emotion/css';
import { setBackendSrv, type PluginPageProps } from '@grafana/runtime';
import { GlobalStyles, PanelChrome, useStyles2 } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Route, Routes, useLocation } from 'react-router-dom';
// Grafana sets its own page chrome through this internal hook; the harness sets a small stand-in.
import { setPluginPage } from 'harness-plugin-page';
import App from '../src/components/App/App';
import { PLUGIN_BASE_URL, PLUGIN_ID, ROUTES } from '../src/constants';
import { runSqlQuery } from '../src/data/sqlQuery';
import { IncidentsPanel } from '../src/panels/incidents/IncidentsPanel';
import { DEFAULT_INCIDENTS_TABLE_OPTIONS } from '../src/components/IncidentsTable/IncidentsTable';
import pluginJson from '../src/plugin.json';
import type { AppSettings } from '../src/utils/utils.plugin';
import { harnessBackendSrv } from './backendSrv';

setBackendSrv(harnessBackendSrv);

const PAGES = pluginJson.includes.filter((include) => include.type === 'page');

function pageTitle(pathname: string): string {
  const page = PAGES.find((include) => pathname.startsWith(include.path?.replace('%PLUGIN_ID%', PLUGIN_ID) ?? '?'));
  return page?.name ?? 'Incidents panel in a dashboard';
}

function HarnessPluginPage({ children, subTitle, actions }: PluginPageProps) {
  const styles = useStyles2(getStyles);
  const location = useLocation();
  return (
    <div className={styles.page}>
      <header className={styles.header}>
        <h1 className={styles.title}>{pageTitle(location.pathname)}</h1>
        {subTitle && <div className={styles.subTitle}>{subTitle}</div>}
        {actions}
      </header>
      {children}
    </div>
  );
}
setPluginPage(HarnessPluginPage);

function Navigation() {
  const styles = useStyles2(getStyles);
  const location = useLocation();
  const links = [
    ...PAGES.map((page) => ({ name: page.name, to: page.path!.replace('%PLUGIN_ID%', PLUGIN_ID) })),
    { name: 'Panel in a dashboard', to: '/harness/panel' },
  ];
  return (
    <nav className={styles.nav} aria-label="Incident Lens">
      <div className={styles.brand}>Incident Lens</div>
      {links.map((link) => (
        <Link key={link.to} to={link.to} className={location.pathname === link.to ? styles.activeLink : styles.link}>
          {link.name}
        </Link>
      ))}
    </nav>
  );
}

function AppRoot() {
  const [meta, setMeta] = useState<AppPluginMeta<AppSettings>>();
  useEffect(() => {
    harnessBackendSrv
      .get<{ jsonData: AppSettings; enabled: boolean; pinned: boolean }>(`/api/plugins/${PLUGIN_ID}/settings`)
      .then((settings) =>
        setMeta({
          id: PLUGIN_ID,
          name: pluginJson.name,
          type: PluginType.app,
          module: '',
          baseUrl: `public/plugins/${PLUGIN_ID}`,
          info: pluginJson.info as unknown as AppPluginMeta['info'],
          enabled: settings.enabled,
          pinned: settings.pinned,
          jsonData: settings.jsonData,
        })
      );
  }, []);
  if (!meta) {
    return null;
  }
  return <App meta={meta} basename={PLUGIN_BASE_URL} path={PLUGIN_BASE_URL} query={{}} onNavChanged={() => {}} />;
}

/** The nested panel as a dashboard would show it: a table query through the datasource, the frame handed to the panel. */
function PanelInDashboard() {
  const [series, setSeries] = useState<DataFrame[]>();
  const [error, setError] = useState<string>();
  const [timeRange] = useState(() => ({
    from: dateTime(Date.now() - 30 * 86_400_000),
    to: dateTime(),
    raw: { from: 'now-30d', to: 'now' },
  }));
  useEffect(() => {
    runSqlQuery({
      datasourceUid: 'incident-lens-pg',
      rawSql: "SELECT * FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), 'UTC') WHERE NOT merged LIMIT 12",
      timeRange,
    })
      .then((frame) => setSeries([frame]))
      .catch((failure: Error) => setError(failure.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (error) {
    return <div role="alert">{error}</div>;
  }
  if (!series) {
    return null;
  }
  return (
    <HarnessPluginPage>
      <PanelChrome title="Recent incidents" width={1180} height={640}>
        {(width, height) => (
          <IncidentsPanel
            id={1}
            data={{ series, state: LoadingState.Done, timeRange }}
            timeRange={timeRange}
            timeZone="utc"
            options={DEFAULT_INCIDENTS_TABLE_OPTIONS}
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
            replaceVariables={(value) => value}
          />
        )}
      </PanelChrome>
    </HarnessPluginPage>
  );
}

function Harness() {
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.shell}>
      <Navigation />
      <main className={styles.main}>
        <Routes>
          <Route path={`${PLUGIN_BASE_URL}/*`} element={<AppRoot />} />
          <Route path="/harness/panel" element={<PanelInDashboard />} />
          <Route path="*" element={<Link to={`${PLUGIN_BASE_URL}/${ROUTES.Overview}`}>Open the app</Link>} />
        </Routes>
      </main>
    </div>
  );
}

const theme = createTheme({ colors: { mode: 'dark' } });

createRoot(document.getElementById('root')!).render(
  <ThemeContext.Provider value={theme}>
    <GlobalStyles />
    <BrowserRouter>
      <Harness />
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
      gap: theme.spacing(0.5),
      padding: theme.spacing(2, 1),
      background: theme.colors.background.primary,
      borderRight: `1px solid ${theme.colors.border.weak}`,
    }),
    brand: css({ fontWeight: theme.typography.fontWeightBold, padding: theme.spacing(0, 1, 1) }),
    link: css({
      padding: theme.spacing(0.75, 1),
      color: theme.colors.text.secondary,
      borderRadius: theme.shape.radius.default,
    }),
    activeLink: css({
      padding: theme.spacing(0.75, 1),
      color: theme.colors.text.primary,
      background: theme.colors.action.selected,
      borderRadius: theme.shape.radius.default,
    }),
    main: css({ flexGrow: 1, minWidth: 0, padding: theme.spacing(2, 3) }),
    page: css({ display: 'flex', flexDirection: 'column' }),
    header: css({ marginBottom: theme.spacing(2) }),
    title: css({ fontSize: theme.typography.h2.fontSize, margin: 0 }),
    subTitle: css({ color: theme.colors.text.secondary, marginTop: theme.spacing(0.5) }),
  };
}
