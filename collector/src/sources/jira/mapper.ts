import type { IncidentEventType } from '../../db/schema.ts';
import { normaliseSeverity, type SeverityRules } from '../../severity.ts';
import type { IncidentRow } from '../../sync/store.ts';
import type { AdfNode, JiraHistory, JiraIssue, JiraRemoteLink, JiraSlaCycle, JiraSlaValue } from './api-types.ts';
import { changelogIsComplete } from './client.ts';

/** Pure mapping from Jira issues to the project's rows (docs/metrics.md §1, 4, 6, 7, 8). */

export type Mapped<T> = { ok: true; value: T } | { ok: false; reason: string; externalId: string | null };

export type JiraIssueKind = 'incident' | 'postmortem' | 'action_item';

export interface JiraMappingRules {
  /** The site URL: issue pages are `<siteUrl>/browse/<key>`. */
  siteUrl: string;
  /** Leaving one of these statuses is the first response of a Jira incident (names, any case). */
  newStatuses: readonly string[];
  fields: {
    /** `priority` or a custom field id holding the severity. */
    severity: string;
    rootCause: string | null;
    pagerdutyIncident: string | null;
  };
  severity: SeverityRules;
  /** Status id to status category key (`new`, `indeterminate`, `done`), from GET /status. */
  statusCategories: ReadonlyMap<string, string>;
  /** Id of the site's "Time to first response" SLA field, if it has one. */
  firstResponseSlaField: string | null;
}

/** What an issue says about its relations; kept so links resolve whichever issue arrives first. */
export interface JiraIssueFacts {
  issueKey: string;
  issueId: string;
  kind: JiraIssueKind;
  /** Keys of linked issues (either direction), the parent and the sub-tasks. */
  linkedKeys: string[];
  pagerdutyIncidentIds: string[];
  rootCauseKey: string | null;
  htmlUrl: string;
  createdAt: string;
  updatedAt: string | null;
}

export interface MappedStatusEvent {
  externalId: string;
  type: IncidentEventType;
  rawType: string;
  occurredAt: string;
  agent: string | null;
  summary: string | null;
}

export interface MappedJiraIncident {
  /** The incident row a ticket stands for when no PagerDuty incident claims it. */
  row: IncidentRow;
  facts: JiraIssueFacts;
  events: MappedStatusEvent[];
}

export interface PostmortemRow {
  externalId: string;
  title: string;
  status: string;
  statusCategory: string;
  createdAt: string;
  completedAt: string | null;
  rootCauseKey: string | null;
  htmlUrl: string;
  sourceUpdatedAt: string | null;
}

export interface MappedPostmortem {
  row: PostmortemRow;
  facts: JiraIssueFacts;
}

export interface ActionItemRow {
  externalId: string;
  title: string;
  status: string;
  statusCategory: string;
  owner: string | null;
  /** YYYY-MM-DD */
  dueDate: string | null;
  createdAt: string;
  completedAt: string | null;
  htmlUrl: string;
  sourceUpdatedAt: string | null;
}

export interface MappedActionItem {
  row: ActionItemRow;
  facts: JiraIssueFacts;
}

/** An issue as the sync hands it over: complete status history, remote links when fetched. */
export interface JiraIssueRecord {
  issue: JiraIssue;
  remoteLinks?: JiraRemoteLink[];
}

interface StatusTransition {
  historyId: string;
  at: string;
  fromId: string | null;
  fromName: string | null;
  toId: string | null;
  toName: string | null;
  agent: string | null;
}

interface IssueBasics {
  id: string;
  key: string;
  title: string;
  statusId: string | null;
  statusName: string;
  statusCategory: string;
  createdAt: string;
  updatedAt: string | null;
  resolvedAt: string | null;
  htmlUrl: string;
  labels: string[];
  transitions: StatusTransition[];
}

const DONE = 'done';

/** The system fields the mapper reads; Jira returns only `id` unless told. */
const SYSTEM_FIELDS = [
  'summary',
  'description',
  'status',
  'priority',
  'issuetype',
  'created',
  'updated',
  'resolutiondate',
  'duedate',
  'assignee',
  'labels',
  'issuelinks',
  'parent',
  'subtasks',
] as const;

/** Every field a search must ask for so that these rules can map its issues. */
export function searchFields(rules: Pick<JiraMappingRules, 'fields' | 'firstResponseSlaField'>): string[] {
  const custom = [
    rules.fields.severity,
    rules.fields.rootCause,
    rules.fields.pagerdutyIncident,
    rules.firstResponseSlaField,
  ];
  return [...new Set([...SYSTEM_FIELDS, ...custom.filter((field): field is string => field !== null)])];
}

function fail(reason: string, externalId: string | null | undefined): Mapped<never> {
  return { ok: false, reason, externalId: externalId ?? null };
}

/** A Jira instant (`2026-10-14T09:12:33.000+0000` or ISO 8601) in UTC ISO form; undefined when absent or unparsable. */
export function parseJiraInstant(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') {
    return undefined;
  }
  // Jira writes offsets without a colon; make it ISO 8601 before parsing.
  const iso = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * The readable value of a field whatever its type: text, number, select
 * option (`value`), named object (`name`), ADF document, or the first
 * non-empty element of a list.
 */
export function fieldText(value: unknown): string | null {
  if (typeof value === 'string') {
    return value.trim() === '' ? null : value.trim();
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  if (Array.isArray(value)) {
    for (const element of value) {
      const text = fieldText(element);
      if (text !== null) {
        return text;
      }
    }
    return null;
  }
  if (!isObject(value)) {
    return null;
  }
  if (value.type === 'doc') {
    return fieldText(adfText(value as AdfNode).join(' '));
  }
  return fieldText(value.value) ?? fieldText(value.name);
}

/**
 * The text of an ADF tree, with the URLs it carries (link marks, inline and
 * block cards), in document order. Plain strings (API v2 style) are text.
 */
export function adfText(node: unknown): string[] {
  if (typeof node === 'string') {
    return [node];
  }
  const pieces: string[] = [];
  const walk = (current: unknown, depth: number) => {
    // ADF nests a few levels; a cycle or absurd depth is not a document.
    if (!isObject(current) || depth > 100) {
      return;
    }
    if (typeof current.text === 'string') {
      pieces.push(current.text);
    }
    if (Array.isArray(current.marks)) {
      for (const mark of current.marks) {
        if (isObject(mark) && isObject(mark.attrs) && typeof mark.attrs.href === 'string') {
          pieces.push(mark.attrs.href);
        }
      }
    }
    if (isObject(current.attrs) && typeof current.attrs.url === 'string') {
      pieces.push(current.attrs.url);
    }
    if (Array.isArray(current.content)) {
      for (const child of current.content) {
        walk(child, depth + 1);
      }
    }
  };
  walk(node, 0);
  return pieces;
}

const PAGERDUTY_URL = /https?:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*\.pagerduty\.com\/incidents\/([a-z0-9]+)/gi;
// "PagerDuty incident Q1ABCDE", "PD: Q1ABCDE", "[PD #Q1ABCDE]": an id needs its context in free text.
const PAGERDUTY_MENTION = /\b(?:pagerduty|pd)\b(?:[\s:#-]*incident\b)?[\s:#-]+([a-z0-9]{5,20})\b/gi;
const PAGERDUTY_LABEL = /^pagerduty-([a-z0-9]+)$/i;
const BARE_ID = /^[A-Za-z0-9]{5,20}$/;

/** PagerDuty incident ids found in free text: incident URLs, and ids written after "PagerDuty"/"PD". */
export function pagerDutyIdsInText(text: string): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(PAGERDUTY_URL)) {
    ids.push(match[1]!.toUpperCase());
  }
  for (const match of text.matchAll(PAGERDUTY_MENTION)) {
    const token = match[1]!;
    // PagerDuty ids are upper case letters and digits; "PD incident resolved" is prose.
    if (token === token.toUpperCase() && /[A-Z]/.test(token)) {
      ids.push(token);
    }
  }
  return ids;
}

/** The value of a field meant to hold a PagerDuty incident: an id or a URL. */
function pagerDutyIdsInField(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  for (const element of values) {
    const text = fieldText(element);
    if (text === null) {
      continue;
    }
    const found = pagerDutyIdsInText(text);
    if (found.length > 0) {
      ids.push(...found);
    } else if (BARE_ID.test(text)) {
      ids.push(text.toUpperCase());
    }
  }
  return ids;
}

/**
 * Every PagerDuty incident an issue refers to: summary, description (ADF),
 * `pagerduty-<ID>` labels, remote links, and the configured field.
 */
export function pagerDutyReferences(record: JiraIssueRecord, pagerdutyField: string | null): string[] {
  const fields = record.issue.fields ?? {};
  const ids: string[] = [];
  if (typeof fields.summary === 'string') {
    ids.push(...pagerDutyIdsInText(fields.summary));
  }
  ids.push(...pagerDutyIdsInText(adfText(fields.description).join('\n')));
  for (const label of Array.isArray(fields.labels) ? fields.labels : []) {
    const match = typeof label === 'string' ? PAGERDUTY_LABEL.exec(label) : null;
    if (match) {
      ids.push(match[1]!.toUpperCase());
    }
  }
  for (const link of record.remoteLinks ?? []) {
    const texts = [link.object?.url, link.globalId].filter((text): text is string => typeof text === 'string');
    for (const text of texts) {
      for (const match of text.matchAll(PAGERDUTY_URL)) {
        ids.push(match[1]!.toUpperCase());
      }
    }
  }
  if (pagerdutyField !== null) {
    ids.push(...pagerDutyIdsInField(fields[pagerdutyField]));
  }
  return [...new Set(ids)];
}

const ROOT_CAUSE_LABEL = /^root-cause:(.+)$/i;

/**
 * The root cause as the issue writes it: the configured field first, else
 * the first `root-cause:<key>` label. It is stored as written: the one
 * normalisation into a key (docs/metrics.md §8) is lens.root_cause_slug in SQL, so
 * 'Bad deploy' here and 'bad-deploy' elsewhere are one cause.
 */
export function rootCauseKey(record: JiraIssueRecord, rootCauseField: string | null): string | null {
  const fields = record.issue.fields ?? {};
  const written = rootCauseField === null ? undefined : fieldText(fields[rootCauseField])?.trim();
  if (written) {
    return written;
  }
  for (const label of Array.isArray(fields.labels) ? fields.labels : []) {
    const labelled = typeof label === 'string' ? ROOT_CAUSE_LABEL.exec(label)?.[1]!.trim() : undefined;
    if (labelled) {
      return labelled;
    }
  }
  return null;
}

/** Keys of every issue this one is tied to: issue links both ways, its parent, its sub-tasks. */
export function linkedIssueKeys(issue: JiraIssue): string[] {
  const fields = issue.fields ?? {};
  const keys: string[] = [];
  for (const link of Array.isArray(fields.issuelinks) ? fields.issuelinks : []) {
    if (nonEmpty(link?.inwardIssue?.key)) {
      keys.push(link.inwardIssue.key);
    }
    if (nonEmpty(link?.outwardIssue?.key)) {
      keys.push(link.outwardIssue.key);
    }
  }
  if (nonEmpty(fields.parent?.key)) {
    keys.push(fields.parent.key);
  }
  for (const subtask of Array.isArray(fields.subtasks) ? fields.subtasks : []) {
    if (nonEmpty(subtask?.key)) {
      keys.push(subtask.key);
    }
  }
  return [...new Set(keys)].filter((key) => key !== issue.key);
}

/** Status changes in time order (history id breaks ties), whatever order Jira listed them in. */
function statusTransitions(histories: JiraHistory[]): Mapped<StatusTransition[]> {
  const transitions: StatusTransition[] = [];
  for (const history of histories) {
    for (const item of history.items ?? []) {
      if ((item.fieldId ?? item.field) !== 'status') {
        continue;
      }
      const at = parseJiraInstant(history.created);
      if (!nonEmpty(history.id) || at === undefined) {
        return fail(
          `a status change in the changelog has no id or no valid date: ${JSON.stringify(history.created)}`,
          null
        );
      }
      transitions.push({
        historyId: history.id,
        at,
        fromId: item.from ?? null,
        fromName: item.fromString ?? null,
        toId: item.to ?? null,
        toName: item.toString ?? null,
        agent: history.author?.displayName ?? null,
      });
    }
  }
  transitions.sort((a, b) => (a.at === b.at ? Number(a.historyId) - Number(b.historyId) : a.at < b.at ? -1 : 1));
  return { ok: true, value: transitions };
}

function readBasics(record: JiraIssueRecord, rules: JiraMappingRules): Mapped<IssueBasics> {
  const issue = record.issue;
  if (typeof issue !== 'object' || issue === null) {
    return fail('issue is not an object', null);
  }
  if (!nonEmpty(issue.key)) {
    return fail('issue has no key', issue.id);
  }
  const key = issue.key;
  if (!nonEmpty(issue.id)) {
    return fail('issue has no id', key);
  }
  const fields = issue.fields;
  if (typeof fields !== 'object' || fields === null) {
    return fail('issue has no fields: the search must name the fields it needs', key);
  }
  if (typeof fields.summary !== 'string') {
    return fail('issue has no summary field', key);
  }
  const status = fields.status;
  if (typeof status !== 'object' || status === null || !nonEmpty(status.name)) {
    return fail('issue has no status', key);
  }
  const category = status.statusCategory?.key;
  if (!nonEmpty(category)) {
    return fail(`status '${status.name}' has no status category`, key);
  }
  const createdAt = parseJiraInstant(fields.created);
  if (!createdAt) {
    return fail(`issue created is missing or not a date: ${JSON.stringify(fields.created)}`, key);
  }
  let resolvedAt: string | null = null;
  if (fields.resolutiondate !== undefined && fields.resolutiondate !== null) {
    const parsed = parseJiraInstant(fields.resolutiondate);
    if (!parsed) {
      return fail(`issue resolutiondate is not a date: ${JSON.stringify(fields.resolutiondate)}`, key);
    }
    if (parsed < createdAt) {
      return fail(`issue resolutiondate ${parsed} is before its creation ${createdAt}`, key);
    }
    resolvedAt = parsed;
  }
  if (!changelogIsComplete(issue)) {
    const got = issue.changelog?.histories?.length ?? 0;
    return fail(`issue changelog is incomplete (${got} of ${issue.changelog?.total ?? 'unknown'} histories)`, key);
  }
  const transitions = statusTransitions(issue.changelog!.histories!);
  if (!transitions.ok) {
    return fail(transitions.reason, key);
  }
  return {
    ok: true,
    value: {
      id: issue.id,
      key,
      title: fields.summary,
      statusId: nonEmpty(status.id) ? status.id : null,
      statusName: status.name,
      statusCategory: category,
      createdAt,
      updatedAt: parseJiraInstant(fields.updated) ?? null,
      resolvedAt,
      htmlUrl: `${rules.siteUrl.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}`,
      labels: Array.isArray(fields.labels) ? fields.labels.filter((label) => typeof label === 'string') : [],
      transitions: transitions.value,
    },
  };
}

function factsOf(
  basics: IssueBasics,
  record: JiraIssueRecord,
  kind: JiraIssueKind,
  rules: JiraMappingRules
): JiraIssueFacts {
  return {
    issueKey: basics.key,
    issueId: basics.id,
    kind,
    linkedKeys: linkedIssueKeys(record.issue),
    pagerdutyIncidentIds: pagerDutyReferences(record, rules.fields.pagerdutyIncident),
    rootCauseKey: rootCauseKey(record, rules.fields.rootCause),
    htmlUrl: basics.htmlUrl,
    createdAt: basics.createdAt,
    updatedAt: basics.updatedAt,
  };
}

function categoryOf(statusId: string | null, basics: IssueBasics, rules: JiraMappingRules): string | undefined {
  if (statusId === null) {
    return undefined;
  }
  // A status deleted from every workflow is missing from GET /status; the current one we know.
  return rules.statusCategories.get(statusId) ?? (statusId === basics.statusId ? basics.statusCategory : undefined);
}

/**
 * docs/metrics.md §6 and 7: when a done issue was completed. The last time it
 * entered the Done category (a move between two Done statuses is not a new
 * completion; after a reopen, the later completion counts), else its
 * resolution date, else its creation (created straight into a Done status).
 * Not done (including reopened): null.
 */
function completedAt(basics: IssueBasics, rules: JiraMappingRules): string | null {
  if (basics.statusCategory !== DONE) {
    return null;
  }
  let entered: string | null = null;
  for (const transition of basics.transitions) {
    const into = categoryOf(transition.toId, basics, rules);
    const from = categoryOf(transition.fromId, basics, rules);
    if (into === DONE && from !== DONE) {
      entered = transition.at;
    }
  }
  return entered ?? basics.resolvedAt ?? basics.createdAt;
}

/** The stop time of the first completed cycle of the first-response SLA, if it has one. */
export function slaFirstResponse(value: unknown): string | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const cycles = (value as JiraSlaValue).completedCycles;
  if (!Array.isArray(cycles) || cycles.length === 0) {
    return undefined;
  }
  const first = [...cycles].sort((a, b) => cycleStart(a) - cycleStart(b))[0]!;
  const stop = first.stopTime;
  if (!isObject(stop)) {
    return undefined;
  }
  return (
    parseJiraInstant(stop.iso8601) ??
    (typeof stop.epochMillis === 'number' && Number.isFinite(stop.epochMillis)
      ? new Date(stop.epochMillis).toISOString()
      : undefined)
  );
}

function cycleStart(cycle: JiraSlaCycle): number {
  const start = cycle?.startTime;
  if (!isObject(start)) {
    return 0;
  }
  if (typeof start.epochMillis === 'number') {
    return start.epochMillis;
  }
  const iso = parseJiraInstant(start.iso8601);
  return iso ? Date.parse(iso) : 0;
}

/**
 * docs/metrics.md §1: the first response of a Jira incident is the stop of the
 * first completed "Time to first response" cycle when the SLA has one, else
 * the first transition out of a configured "new" status into another one.
 */
function firstResponseAt(basics: IssueBasics, record: JiraIssueRecord, rules: JiraMappingRules): string | null {
  if (rules.firstResponseSlaField !== null) {
    const stop = slaFirstResponse(record.issue.fields?.[rules.firstResponseSlaField]);
    if (stop !== undefined && stop >= basics.createdAt) {
      return stop;
    }
  }
  const isNew = (name: string | null) =>
    name !== null && rules.newStatuses.some((status) => status.trim().toLowerCase() === name.trim().toLowerCase());
  const leaving = basics.transitions.find((transition) => isNew(transition.fromName) && !isNew(transition.toName));
  return leaving && leaving.at >= basics.createdAt ? leaving.at : null;
}

function severityName(record: JiraIssueRecord, field: string): string | null {
  const fields = record.issue.fields ?? {};
  return field === 'priority' ? fieldText(fields.priority?.name) : fieldText(fields[field]);
}

export function mapJiraIncident(record: JiraIssueRecord, rules: JiraMappingRules): Mapped<MappedJiraIncident> {
  const basics = readBasics(record, rules);
  if (!basics.ok) {
    return basics;
  }
  const issue = basics.value;
  const priorityRaw = severityName(record, rules.fields.severity);
  const row: IncidentRow = {
    externalId: issue.key,
    number: null,
    title: issue.title,
    status: issue.statusName,
    urgency: null,
    priorityRaw,
    severity: normaliseSeverity(priorityRaw, null, rules.severity),
    serviceExternalId: null,
    teamExternalId: null,
    createdAt: issue.createdAt,
    acknowledgedAt: firstResponseAt(issue, record, rules),
    resolvedAt: issue.resolvedAt,
    merged: false,
    htmlUrl: issue.htmlUrl,
    sourceUpdatedAt: issue.updatedAt,
  };
  const events = issue.transitions.map((transition) => ({
    externalId: transition.historyId,
    type: 'status_change' as const,
    rawType: 'status',
    occurredAt: transition.at,
    agent: transition.agent,
    summary: `${transition.fromName ?? '?'} → ${transition.toName ?? '?'}`,
  }));
  return { ok: true, value: { row, facts: factsOf(issue, record, 'incident', rules), events } };
}

export function mapJiraPostmortem(record: JiraIssueRecord, rules: JiraMappingRules): Mapped<MappedPostmortem> {
  const basics = readBasics(record, rules);
  if (!basics.ok) {
    return basics;
  }
  const issue = basics.value;
  const facts = factsOf(issue, record, 'postmortem', rules);
  return {
    ok: true,
    value: {
      row: {
        externalId: issue.key,
        title: issue.title,
        status: issue.statusName,
        statusCategory: issue.statusCategory,
        createdAt: issue.createdAt,
        completedAt: completedAt(issue, rules),
        rootCauseKey: facts.rootCauseKey,
        htmlUrl: issue.htmlUrl,
        sourceUpdatedAt: issue.updatedAt,
      },
      facts,
    },
  };
}

export function mapJiraActionItem(record: JiraIssueRecord, rules: JiraMappingRules): Mapped<MappedActionItem> {
  const basics = readBasics(record, rules);
  if (!basics.ok) {
    return basics;
  }
  const issue = basics.value;
  const fields = record.issue.fields!;
  let dueDate: string | null = null;
  if (fields.duedate !== undefined && fields.duedate !== null) {
    if (typeof fields.duedate !== 'string' || !isCalendarDay(fields.duedate)) {
      return fail(`action item duedate is not a YYYY-MM-DD day: ${JSON.stringify(fields.duedate)}`, issue.key);
    }
    dueDate = fields.duedate;
  }
  const owner = isObject(fields.assignee) && nonEmpty(fields.assignee.displayName) ? fields.assignee.displayName : null;
  return {
    ok: true,
    value: {
      row: {
        externalId: issue.key,
        title: issue.title,
        status: issue.statusName,
        statusCategory: issue.statusCategory,
        owner,
        dueDate,
        createdAt: issue.createdAt,
        completedAt: completedAt(issue, rules),
        htmlUrl: issue.htmlUrl,
        sourceUpdatedAt: issue.updatedAt,
      },
      facts: factsOf(issue, record, 'action_item', rules),
    },
  };
}

function isCalendarDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    return false;
  }
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}
