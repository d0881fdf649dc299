/**
 * The fixed configuration of the simulated Jira site: statuses, issue types,
 * projects, link types, custom fields and people, with the ids Jira uses.
 */

export type StatusCategoryKey = 'new' | 'indeterminate' | 'done';

export interface SiteStatus {
  id: string;
  name: string;
  category: StatusCategoryKey;
}

export const SITE_STATUSES: readonly SiteStatus[] = [
  { id: '1', name: 'Open', category: 'new' },
  { id: '10000', name: 'To Do', category: 'new' },
  { id: '4', name: 'Reopened', category: 'new' },
  { id: '3', name: 'In Progress', category: 'indeterminate' },
  { id: '10001', name: 'In Review', category: 'indeterminate' },
  { id: '5', name: 'Resolved', category: 'done' },
  { id: '10002', name: 'Done', category: 'done' },
  { id: '6', name: 'Closed', category: 'done' },
];

export interface SiteIssueType {
  id: string;
  name: string;
  subtask: boolean;
}

export const ISSUE_TYPES = {
  incident: { id: '10100', name: 'Incident', subtask: false },
  review: { id: '10101', name: 'Post-incident review', subtask: false },
  task: { id: '10002', name: 'Task', subtask: false },
  subtask: { id: '10003', name: 'Sub-task', subtask: true },
} as const satisfies Record<string, SiteIssueType>;

export interface SiteProject {
  id: string;
  key: string;
  name: string;
}

/** INC is a Jira Service Management project, OPS a plain Jira Software one. */
export const PROJECTS = {
  INC: { id: '10010', key: 'INC', name: 'Incident Response' },
  OPS: { id: '10011', key: 'OPS', name: 'Operations' },
} as const satisfies Record<string, SiteProject>;

export interface SiteLinkType {
  id: string;
  name: string;
  inward: string;
  outward: string;
}

export const LINK_TYPES = {
  relates: { id: '10003', name: 'Relates', inward: 'relates to', outward: 'relates to' },
  review: { id: '10010', name: 'Post-Incident Reviews', inward: 'is reviewed by', outward: 'reviews' },
} as const satisfies Record<string, SiteLinkType>;

/** Custom fields of the site, as GET /rest/api/3/field lists them. */
export const CUSTOM_FIELDS = {
  firstResponseSla: {
    id: 'customfield_10020',
    name: 'Time to first response',
    schema: { type: 'sd-servicelevelagreement', custom: 'com.atlassian.servicedesk:sd-sla-field', customId: 10020 },
  },
  severity: {
    id: 'customfield_10042',
    name: 'Severity',
    schema: { type: 'option', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:select', customId: 10042 },
  },
  rootCause: {
    id: 'customfield_10050',
    name: 'Root cause',
    schema: { type: 'option', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:select', customId: 10050 },
  },
  pagerdutyIncident: {
    id: 'customfield_10060',
    name: 'PagerDuty incident',
    schema: { type: 'string', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield', customId: 10060 },
  },
} as const;

/** JSM's other default SLA; a site may list it (FakeJiraOptions.resolutionSlaField), no issue holds a value in it. */
export const RESOLUTION_SLA_FIELD = {
  id: 'customfield_10021',
  name: 'Time to resolution',
  schema: { type: 'sd-servicelevelagreement', custom: 'com.atlassian.servicedesk:sd-sla-field', customId: 10021 },
} as const;

/** The profile languages the simulated site speaks: Jira translates field names, never ids or schema types. */
export type SiteLocale = 'en_US' | 'de_DE';

/** Field names a German profile sees, by field id; English ones are in the field lists. */
export const GERMAN_FIELD_NAMES: Readonly<Record<string, string>> = {
  summary: 'Zusammenfassung',
  description: 'Beschreibung',
  status: 'Status',
  priority: 'Priorität',
  issuetype: 'Vorgangstyp',
  project: 'Projekt',
  created: 'Erstellt',
  updated: 'Aktualisiert',
  resolutiondate: 'Erledigt',
  resolution: 'Lösung',
  duedate: 'Fälligkeitsdatum',
  assignee: 'Zugewiesene Person',
  labels: 'Stichwörter',
  issuelinks: 'Verknüpfte Vorgänge',
  parent: 'Übergeordnet',
  subtasks: 'Unteraufgaben',
  [CUSTOM_FIELDS.firstResponseSla.id]: 'Zeit bis zur ersten Antwort',
  [CUSTOM_FIELDS.severity.id]: 'Schweregrad',
  [CUSTOM_FIELDS.rootCause.id]: 'Grundursache',
  [CUSTOM_FIELDS.pagerdutyIncident.id]: 'PagerDuty-Vorfall',
  [RESOLUTION_SLA_FIELD.id]: 'Zeit bis zur Lösung',
};

export interface SiteUser {
  accountId: string;
  displayName: string;
  emailAddress: string;
}

export const PEOPLE = [
  'Mia Krystof',
  'Ravi Patel',
  'Ana Souza',
  'Jonas Becker',
  'Leila Haddad',
  'Tomasz Nowak',
  'Grace Okafor',
  'Kenji Watanabe',
];

export const SITE_USERS: readonly SiteUser[] = PEOPLE.map((name, index) => ({
  accountId: `5b10a2844c20165700ede2${(10 + index).toString(16)}`,
  displayName: name,
  emailAddress: `${name.split(' ')[0]!.toLowerCase()}@acme.example`,
}));

export function statusByName(name: string): SiteStatus {
  const status = SITE_STATUSES.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!status) {
    throw new RangeError(`no status named '${name}' on this site: ${SITE_STATUSES.map((s) => s.name).join(', ')}`);
  }
  return status;
}

export function statusById(id: string): SiteStatus {
  const status = SITE_STATUSES.find((candidate) => candidate.id === id);
  if (!status) {
    throw new RangeError(`no status with id ${id}`);
  }
  return status;
}
