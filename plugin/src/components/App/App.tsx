import type { AppRootProps } from '@grafana/data';
import React from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { ROUTES } from '../../constants';
import { ActionItemsPage } from '../../pages/ActionItems';
import { ConfigurationPage } from '../../pages/Configuration';
import { DataQualityPage } from '../../pages/DataQuality';
import { IncidentsPage } from '../../pages/Incidents';
import { OnCallPage } from '../../pages/OnCall';
import { OverviewPage } from '../../pages/Overview';
import { ReportsPage } from '../../pages/Reports';
import { SlaPolicyPage } from '../../pages/SlaPolicy';
import { prefixRoute } from '../../utils/utils.routing';
import { PluginPropsContext, type AppSettings } from '../../utils/utils.plugin';

/** The app's pages, routed under /a/incidentlens-analytics-app/ as plugin.json lists them. */
function App(props: AppRootProps<AppSettings>) {
  return (
    <PluginPropsContext.Provider value={props}>
      <Routes>
        <Route path={ROUTES.Overview} element={<OverviewPage />} />
        <Route path={ROUTES.Reports} element={<ReportsPage />} />
        <Route path={ROUTES.Incidents} element={<IncidentsPage />} />
        <Route path={ROUTES.ActionItems} element={<ActionItemsPage />} />
        <Route path={ROUTES.DataQuality} element={<DataQualityPage />} />
        <Route path={ROUTES.OnCall} element={<OnCallPage />} />
        <Route path={ROUTES.SlaPolicy} element={<SlaPolicyPage />} />
        <Route path={ROUTES.Configuration} element={<ConfigurationPage />} />
        <Route path="*" element={<Navigate to={prefixRoute(ROUTES.Overview)} replace />} />
      </Routes>
    </PluginPropsContext.Provider>
  );
}

export default App;
