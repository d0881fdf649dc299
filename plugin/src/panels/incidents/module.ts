import { PanelPlugin } from '@grafana/data';
import { DEFAULT_INCIDENTS_TABLE_OPTIONS } from '../../components/IncidentsTable/IncidentsTable';
import { IncidentsPanel } from './IncidentsPanel';
import type { IncidentsPanelOptions } from './types';

export const plugin = new PanelPlugin<IncidentsPanelOptions>(IncidentsPanel).setPanelOptions((builder) =>
  builder
    .addBooleanSwitch({
      path: 'showService',
      name: 'Service column',
      description: 'Show the service of each incident (field `service`).',
      defaultValue: DEFAULT_INCIDENTS_TABLE_OPTIONS.showService,
    })
    .addBooleanSwitch({
      path: 'showTeam',
      name: 'Team column',
      description: 'Show the owning team (field `team`).',
      defaultValue: DEFAULT_INCIDENTS_TABLE_OPTIONS.showTeam,
    })
    .addBooleanSwitch({
      path: 'showLinks',
      name: 'Links',
      description:
        'Links to PagerDuty (`html_url`), Jira (`jira_url`, `jira_issue_key`) and the post-mortem (`postmortem_url`).',
      defaultValue: DEFAULT_INCIDENTS_TABLE_OPTIONS.showLinks,
    })
    .addBooleanSwitch({
      path: 'showTimeline',
      name: 'Timeline on row expand',
      description: 'Expanding a row shows the `timeline` field: a JSON array of {at, type, agent, summary}.',
      defaultValue: DEFAULT_INCIDENTS_TABLE_OPTIONS.showTimeline,
    })
    .addNumberInput({
      path: 'pageSize',
      name: 'Rows per page',
      description: '0 shows every row on one page.',
      defaultValue: DEFAULT_INCIDENTS_TABLE_OPTIONS.pageSize,
      settings: { min: 0, integer: true },
    })
);
