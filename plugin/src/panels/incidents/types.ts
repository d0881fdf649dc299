import type { IncidentsTableOptions } from '../../components/IncidentsTable/IncidentsTable';

/** The panel's options; each is documented in the plugin README and in the panel editor. */
export type IncidentsPanelOptions = IncidentsTableOptions;
