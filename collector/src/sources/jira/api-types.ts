/**
 * The parts of Jira Cloud platform REST API v3 payloads that Incident Lens
 * reads, as Atlassian's OpenAPI description has them (the parts the
 * simulator serves are in simulators/specs/jira-cloud-platform-v3.trimmed.json).
 * Everything is optional on purpose: issues come from outside and are
 * validated by the mapper, which quarantines what it cannot use.
 */

export interface JiraStatusCategory {
  id?: number;
  key?: string;
  name?: string;
  colorName?: string;
  self?: string;
}

/** StatusDetails */
export interface JiraStatus {
  id?: string;
  name?: string;
  self?: string;
  iconUrl?: string;
  statusCategory?: JiraStatusCategory;
}

/** UserDetails */
export interface JiraUser {
  accountId?: string;
  accountType?: string;
  active?: boolean;
  displayName?: string;
  emailAddress?: string;
  self?: string;
  timeZone?: string;
}

export interface JiraIssueType {
  id?: string;
  name?: string;
  subtask?: boolean;
  hierarchyLevel?: number;
  self?: string;
}

/** LinkedIssue: the other end of an issue link, a parent or a sub-task. */
export interface JiraLinkedIssue {
  id?: string;
  key?: string;
  self?: string;
  fields?: { summary?: string; status?: JiraStatus; issuetype?: JiraIssueType; priority?: { name?: string } };
}

/** An issue link as it appears in an issue's `issuelinks` field: one end only. */
export interface JiraIssueLink {
  id?: string;
  self?: string;
  type?: { id?: string; name?: string; inward?: string; outward?: string; self?: string };
  inwardIssue?: JiraLinkedIssue;
  outwardIssue?: JiraLinkedIssue;
}

/** Atlassian Document Format: a tree of nodes; text lives in `text` nodes. */
export interface AdfNode {
  type?: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: Array<{ type?: string; attrs?: Record<string, unknown> }>;
  content?: AdfNode[];
  version?: number;
}

/** A point of a Jira Service Management SLA cycle. */
export interface JiraSlaTime {
  iso8601?: string;
  jira?: string;
  friendly?: string;
  epochMillis?: number;
}

export interface JiraSlaDuration {
  millis?: number;
  friendly?: string;
}

export interface JiraSlaCycle {
  startTime?: JiraSlaTime;
  stopTime?: JiraSlaTime;
  breachTime?: JiraSlaTime;
  breached?: boolean;
  paused?: boolean;
  withinCalendarHours?: boolean;
  goalDuration?: JiraSlaDuration;
  elapsedTime?: JiraSlaDuration;
  remainingTime?: JiraSlaDuration;
}

/** The value of an SLA custom field such as "Time to first response". */
export interface JiraSlaValue {
  id?: string;
  name?: string;
  completedCycles?: JiraSlaCycle[];
  ongoingCycle?: JiraSlaCycle;
}

/** ChangeDetails */
export interface JiraChangeItem {
  field?: string;
  fieldId?: string;
  fieldtype?: string;
  from?: string | null;
  fromString?: string | null;
  to?: string | null;
  toString?: string | null;
}

/** Changelog: one history entry. */
export interface JiraHistory {
  id?: string;
  author?: JiraUser;
  created?: string;
  items?: JiraChangeItem[];
}

/** PageOfChangelogs, embedded in an issue by expand=changelog. */
export interface JiraEmbeddedChangelog {
  startAt?: number;
  maxResults?: number;
  total?: number;
  histories?: JiraHistory[];
}

/** The issue fields the collector asks for; custom fields are looked up by id. */
export interface JiraIssueFields {
  summary?: string;
  description?: AdfNode | string | null;
  status?: JiraStatus;
  priority?: { id?: string; name?: string } | null;
  issuetype?: JiraIssueType;
  created?: string;
  updated?: string;
  resolutiondate?: string | null;
  duedate?: string | null;
  assignee?: JiraUser | null;
  labels?: string[];
  issuelinks?: JiraIssueLink[];
  parent?: JiraLinkedIssue;
  subtasks?: JiraLinkedIssue[];
  [customField: string]: unknown;
}

/** IssueBean */
export interface JiraIssue {
  id?: string;
  key?: string;
  self?: string;
  expand?: string;
  fields?: JiraIssueFields;
  changelog?: JiraEmbeddedChangelog;
}

/** SearchAndReconcileResults */
export interface JiraSearchPage {
  issues?: JiraIssue[];
  nextPageToken?: string | null;
  isLast?: boolean;
}

/** SearchAndReconcileRequestBean */
export interface JiraSearchRequest {
  jql: string;
  fields: string[];
  expand?: string;
  maxResults?: number;
  nextPageToken?: string;
}

/** BulkChangelogRequestBean */
export interface JiraBulkChangelogRequest {
  issueIdsOrKeys: string[];
  fieldIds?: string[];
  maxResults?: number;
  nextPageToken?: string;
}

/** BulkChangelogResponseBean */
export interface JiraBulkChangelogPage {
  issueChangeLogs?: Array<{ issueId?: string; changeHistories?: JiraHistory[] }>;
  nextPageToken?: string | null;
}

/** RemoteIssueLink */
export interface JiraRemoteLink {
  id?: number;
  self?: string;
  globalId?: string;
  application?: { name?: string; type?: string };
  relationship?: string;
  object?: { url?: string; title?: string; summary?: string };
}

/** FieldDetails */
export interface JiraFieldDetails {
  id?: string;
  key?: string;
  name?: string;
  custom?: boolean;
  schema?: { type?: string; custom?: string; customId?: number; system?: string; items?: string };
}

/** ErrorCollection */
export interface JiraErrorBody {
  errorMessages?: string[];
  errors?: Record<string, string>;
  status?: number;
}

/** Issues per search page the collector asks for; Jira may return fewer. */
export const JIRA_SEARCH_PAGE_SIZE = 100;
/** Issues per id-only search page: Jira returns up to 5,000 when only ids are asked for. */
export const JIRA_ID_SEARCH_PAGE_SIZE = 5000;
/** Jira's cap on issue ids per bulk changelog request. */
export const JIRA_BULK_CHANGELOG_MAX_ISSUES = 1000;
/** Histories per bulk changelog page the collector asks for (Jira's default). */
export const JIRA_BULK_CHANGELOG_PAGE_SIZE = 1000;
/** Jira Cloud meters by cost rather than count; this keeps one collector well under a site's budget. */
export const JIRA_REQUESTS_PER_MINUTE = 300;
