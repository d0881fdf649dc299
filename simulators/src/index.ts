export { generatePagerDutyHistory, type PagerDutyHistoryOptions } from './pagerduty/generator.ts';
export { PagerDutyHistory, type ExpectedIncidentFacts, type NewIncident } from './pagerduty/history.ts';
export type { CatalogEntry, ServiceEntry, UserEntry } from './pagerduty/catalog.ts';
export type {
  IncidentQuery,
  IncidentSort,
  IncidentSortField,
  LogEntryQuery,
  RecordList,
  UserQuery,
} from './pagerduty/queries.ts';
export { startFakePagerDuty, type FakePagerDuty, type FakePagerDutyOptions } from './pagerduty/server.ts';
export type { FaultOptions } from './pagerduty/traffic.ts';
export { generateJiraHistory, type JiraHistoryOptions } from './jira/generator.ts';
export { JiraSiteHistory, type JiraExpectedFacts, type NewIssue, type SiteIssue } from './jira/site.ts';
export {
  CUSTOM_FIELDS,
  GERMAN_FIELD_NAMES,
  ISSUE_TYPES,
  LINK_TYPES,
  PROJECTS,
  SITE_STATUSES,
  SITE_USERS,
  type SiteLocale,
} from './jira/site-catalog.ts';
export { startFakeJira, type FakeJira, type FakeJiraOptions, type FakeJiraRequest } from './jira/server.ts';
export type { Severity, SeverityOf } from './severity.ts';
