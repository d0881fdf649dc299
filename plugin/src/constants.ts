import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;
export const PANEL_ID = 'incidentlens-incidents-panel';

export enum ROUTES {
  Overview = 'overview',
  Reports = 'reports',
  Incidents = 'incidents',
  ActionItems = 'action-items',
  DataQuality = 'data-quality',
  OnCall = 'on-call',
  SlaPolicy = 'sla-policy',
  Configuration = 'configuration',
}

/** The provisioned PostgreSQL datasource; the Configuration page can point the app at another one. */
export const DEFAULT_DATASOURCE_UID = 'incident-lens-pg';
export const POSTGRES_DATASOURCE_TYPE = 'grafana-postgresql-datasource';
export const DEFAULT_TIMEZONE = 'UTC';

export { SEVERITIES, type Severity } from '@incident-lens/common/report';
