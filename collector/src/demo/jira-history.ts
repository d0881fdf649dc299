/**
 * A seeded Jira Cloud site for the fake Jira server, the demo and the tests:
 * incident tickets for PagerDuty incidents (referring to them in each of the
 * ways teams do), a few Jira-only incidents, post-mortems for most SEV1/SEV2
 * incidents (some late, some missing), action items with owners and due
 * dates (on time, late, overdue, without due date, one reopened), and root
 * causes that repeat. Pure: no I/O, no clock, no Math.random.
 *
 * Conventions of this fake, where Jira leaves room:
 * - Times are whole seconds, kept as epoch milliseconds; the server renders
 *   them in the account's time zone as Jira does (`...T10:04:05.000+1100`).
 * - Issue ids count up from 10001 across projects; history ids from 50001.
 * - Every change goes through `addIssue` / `transition` / `edit` / `link`,
 *   which keep the changelog, `updated` and the ground truth in step.
 */
import { normaliseSeverity, type SeverityRules } from '../severity.ts';
import type { Severity } from '../config.ts';
import type { AdfNode } from '../sources/jira/api-types.ts';
import type { ExpectedIncidentFacts } from './pagerduty-history.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

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

export interface SiteUser {
  accountId: string;
  displayName: string;
  emailAddress: string;
}

const PEOPLE = [
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

export interface ChangeItem {
  field: string;
  fieldtype: string;
  fieldId: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

export interface SiteHistory {
  id: string;
  at: number;
  author: SiteUser | null;
  items: ChangeItem[];
}

export interface SiteRemoteLink {
  id: number;
  globalId: string;
  application: { type: string; name: string };
  relationship: string;
  object: { url: string; title: string; summary?: string };
}

export interface SiteIssue {
  id: string;
  key: string;
  project: SiteProject;
  issueType: SiteIssueType;
  summary: string;
  description: AdfNode | null;
  statusId: string;
  priority: string | null;
  labels: string[];
  created: number;
  updated: number;
  resolutiondate: number | null;
  duedate: string | null;
  assignee: SiteUser | null;
  parentKey: string | null;
  /** Custom field values by field id. */
  custom: Record<string, unknown>;
  histories: SiteHistory[];
  remoteLinks: SiteRemoteLink[];
}

export interface SiteLink {
  id: string;
  type: SiteLinkType;
  /** The issue the outward description applies to ("PM-1 reviews INC-1"). */
  outwardKey: string;
  inwardKey: string;
}

export interface NewIssue {
  project: keyof typeof PROJECTS;
  issueType: SiteIssueType;
  summary: string;
  created: Date;
  /** Initial status name; default Open (INC) or To Do (OPS). */
  status?: string;
  priority?: string | null;
  labels?: string[];
  description?: AdfNode | null;
  duedate?: string | null;
  assignee?: string | null;
  parentKey?: string | null;
  custom?: Record<string, unknown>;
}

/** Ground truth of the site, in the project's terms (METRICS.md 1, 6, 7, 8). */
export interface JiraExpectedFacts {
  /** PagerDuty incident id to the key of its Jira ticket. */
  ticketByPagerDutyId: Map<string, string>;
  /** Incidents that exist only in Jira, by issue key. */
  jiraIncidents: Map<string, { severity: Severity; createdAt: string; acknowledgedAt: string | null; resolvedAt: string | null }>;
  /** Root cause key by incident external id (PagerDuty id or Jira key). */
  rootCauseByIncident: Map<string, string>;
  postmortems: Map<string, { incident: string; createdAt: string; completedAt: string | null; rootCauseKey: string | null }>;
  actionItems: Map<
    string,
    {
      postmortem: string | null;
      incident: string | null;
      owner: string | null;
      dueDate: string | null;
      createdAt: string;
      completedAt: string | null;
      done: boolean;
    }
  >;
}

type Kind = 'incident' | 'postmortem' | 'action_item';

interface Truth {
  kind: Kind;
  /** External id of the incident the issue belongs to. */
  incident: string | null;
  postmortem: string | null;
  pagerdutyId: string | null;
  severity: Severity;
  acknowledgedAt: number | null;
  rootCause: string | null;
}

function statusByName(name: string): SiteStatus {
  const status = SITE_STATUSES.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!status) throw new RangeError(`no status named '${name}' on this site: ${SITE_STATUSES.map((s) => s.name).join(', ')}`);
  return status;
}

export function statusById(id: string): SiteStatus {
  const status = SITE_STATUSES.find((candidate) => candidate.id === id);
  if (!status) throw new RangeError(`no status with id ${id}`);
  return status;
}

function wholeSeconds(date: Date, what: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not a date`);
  return Math.floor(ms / 1000) * 1000;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A Jira site's issues, links and their history; the fake server renders it. */
export class JiraSiteHistory {
  readonly issues = new Map<string, SiteIssue>();
  readonly links: SiteLink[] = [];
  private readonly truth = new Map<string, Truth>();
  private readonly projectCounters = new Map<string, number>();
  private nextIssueId = 10_001;
  private nextHistoryId = 50_001;
  private nextLinkId = 20_001;
  private nextRemoteLinkId = 30_001;
  private changeCount = 0;

  constructor(readonly siteUrl = 'https://acme.atlassian.net') {}

  /** Grows with every change. */
  get version(): number {
    return this.changeCount;
  }

  get issueCount(): number {
    return this.issues.size;
  }

  issue(key: string): SiteIssue {
    const issue = this.issues.get(key);
    if (!issue) throw new RangeError(`no issue ${key}`);
    return issue;
  }

  issueById(id: string): SiteIssue | undefined {
    for (const issue of this.issues.values()) if (issue.id === id) return issue;
    return undefined;
  }

  /** Creates an issue in its initial status, like the create-issue screen. */
  addIssue(spec: NewIssue): string {
    const project = PROJECTS[spec.project];
    const number = (this.projectCounters.get(project.key) ?? 0) + 1;
    this.projectCounters.set(project.key, number);
    const key = `${project.key}-${number}`;
    const created = wholeSeconds(spec.created, 'created');
    const status = statusByName(spec.status ?? (project.key === 'INC' ? 'Open' : 'To Do'));
    if (spec.parentKey) this.issue(spec.parentKey);
    this.issues.set(key, {
      id: String(this.nextIssueId++),
      key,
      project,
      issueType: spec.issueType,
      summary: spec.summary,
      description: spec.description ?? null,
      statusId: status.id,
      priority: spec.priority === undefined ? 'Medium' : spec.priority,
      labels: [...(spec.labels ?? [])],
      created,
      updated: created,
      resolutiondate: status.category === 'done' ? created : null,
      duedate: spec.duedate ?? null,
      assignee: spec.assignee ? userNamed(spec.assignee) : null,
      parentKey: spec.parentKey ?? null,
      custom: { ...(spec.custom ?? {}) },
      histories: [],
      remoteLinks: [],
    });
    this.changeCount++;
    return key;
  }

  /**
   * Moves an issue to another status. Entering the Done category sets the
   * resolution date; leaving it clears it, as Jira's resolution does.
   */
  transition(key: string, statusName: string, at: Date, author: string | null = null): void {
    const issue = this.issue(key);
    const time = this.changeTime(issue, at);
    const from = statusById(issue.statusId);
    const to = statusByName(statusName);
    this.addHistory(issue, time, author, [
      { field: 'status', fieldtype: 'jira', fieldId: 'status', from: from.id, fromString: from.name, to: to.id, toString: to.name },
    ]);
    issue.statusId = to.id;
    if (to.category === 'done' && from.category !== 'done') issue.resolutiondate = time;
    if (to.category !== 'done') issue.resolutiondate = null;
    const truth = this.truth.get(key);
    if (truth?.kind === 'incident' && truth.acknowledgedAt === null && NEW_STATUS_NAMES.has(from.name) && !NEW_STATUS_NAMES.has(to.name)) {
      truth.acknowledgedAt = time;
    }
  }

  /** Labels, assignee, priority, due date or a custom field, with their changelog entries. */
  edit(
    key: string,
    at: Date,
    change: { labels?: string[]; assignee?: string | null; priority?: string; duedate?: string | null; custom?: Record<string, unknown> },
    author: string | null = null,
  ): void {
    const issue = this.issue(key);
    const time = this.changeTime(issue, at);
    const items: ChangeItem[] = [];
    if (change.labels) {
      items.push(item('labels', issue.labels.join(' '), change.labels.join(' ')));
      issue.labels = [...change.labels];
    }
    if (change.assignee !== undefined) {
      const next = change.assignee === null ? null : userNamed(change.assignee);
      items.push({
        field: 'assignee',
        fieldtype: 'jira',
        fieldId: 'assignee',
        from: issue.assignee?.accountId ?? null,
        fromString: issue.assignee?.displayName ?? null,
        to: next?.accountId ?? null,
        toString: next?.displayName ?? null,
      });
      issue.assignee = next;
    }
    if (change.priority !== undefined) {
      items.push(item('priority', issue.priority, change.priority));
      issue.priority = change.priority;
    }
    if (change.duedate !== undefined) {
      items.push(item('duedate', issue.duedate, change.duedate));
      issue.duedate = change.duedate;
    }
    for (const [fieldId, value] of Object.entries(change.custom ?? {})) {
      items.push({ ...item(fieldId, null, typeof value === 'string' ? value : JSON.stringify(value)), fieldtype: 'custom' });
      issue.custom[fieldId] = value;
    }
    this.addHistory(issue, time, author, items);
  }

  /** Links two issues; both show the link, and both count as updated. */
  link(outwardKey: string, inwardKey: string, type: SiteLinkType, at: Date): void {
    const outward = this.issue(outwardKey);
    const inward = this.issue(inwardKey);
    const time = Math.max(this.changeTime(outward, at), this.changeTime(inward, at));
    this.links.push({ id: String(this.nextLinkId++), type, outwardKey, inwardKey });
    this.addHistory(outward, time, null, [item('Link', null, `This issue ${type.outward} ${inwardKey}`)]);
    this.addHistory(inward, time, null, [item('Link', null, `This issue ${type.inward} ${outwardKey}`)]);
  }

  addRemoteLink(key: string, url: string, title: string, at: Date): void {
    const issue = this.issue(key);
    const time = this.changeTime(issue, at);
    const pagerduty = /pagerduty\.com/.test(url);
    issue.remoteLinks.push({
      id: this.nextRemoteLinkId++,
      globalId: `system=${url}`,
      application: pagerduty ? { type: 'com.pagerduty', name: 'PagerDuty' } : { type: 'web', name: 'Web' },
      relationship: pagerduty ? 'PagerDuty incident' : 'mentioned in',
      object: { url, title },
    });
    issue.updated = Math.max(issue.updated, time);
    this.changeCount++;
  }

  /** Ground truth after generation and every mutation since. */
  expectedFacts(): JiraExpectedFacts {
    const facts: JiraExpectedFacts = {
      ticketByPagerDutyId: new Map(),
      jiraIncidents: new Map(),
      rootCauseByIncident: new Map(),
      postmortems: new Map(),
      actionItems: new Map(),
    };
    const postmortemsByIncident = new Map<string, SiteIssue[]>();
    for (const [key, truth] of this.truth) {
      const issue = this.issue(key);
      const done = statusById(issue.statusId).category === 'done';
      if (truth.kind === 'incident') {
        if (truth.pagerdutyId !== null) {
          if (!facts.ticketByPagerDutyId.has(truth.pagerdutyId)) facts.ticketByPagerDutyId.set(truth.pagerdutyId, key);
        } else {
          facts.jiraIncidents.set(key, {
            severity: truth.severity,
            createdAt: iso(issue.created),
            acknowledgedAt: truth.acknowledgedAt === null ? null : iso(truth.acknowledgedAt),
            resolvedAt: issue.resolutiondate === null ? null : iso(issue.resolutiondate),
          });
        }
        if (truth.rootCause !== null && truth.incident !== null) facts.rootCauseByIncident.set(truth.incident, truth.rootCause);
      } else if (truth.kind === 'postmortem') {
        facts.postmortems.set(key, {
          incident: truth.incident!,
          createdAt: iso(issue.created),
          completedAt: done ? iso(this.lastEntryIntoDone(issue) ?? issue.resolutiondate ?? issue.created) : null,
          rootCauseKey: truth.rootCause,
        });
        const list = postmortemsByIncident.get(truth.incident!) ?? [];
        list.push(issue);
        postmortemsByIncident.set(truth.incident!, list);
      } else {
        facts.actionItems.set(key, {
          postmortem: truth.postmortem,
          incident: truth.incident,
          owner: issue.assignee?.displayName ?? null,
          dueDate: issue.duedate,
          createdAt: iso(issue.created),
          completedAt: done ? iso(this.lastEntryIntoDone(issue) ?? issue.resolutiondate ?? issue.created) : null,
          done,
        });
      }
    }
    // The latest post-mortem's root cause wins over the ticket's (METRICS.md 8).
    for (const [incident, postmortems] of postmortemsByIncident) {
      const withCause = postmortems
        .filter((postmortem) => this.truth.get(postmortem.key)!.rootCause !== null)
        .sort((a, b) => b.created - a.created || Number(b.id) - Number(a.id));
      if (withCause.length > 0) facts.rootCauseByIncident.set(incident, this.truth.get(withCause[0]!.key)!.rootCause!);
    }
    return facts;
  }

  /** Records what an issue stands for; the generator calls it as it creates issues. */
  declare(key: string, truth: Partial<Truth> & { kind: Kind }): void {
    this.truth.set(key, {
      incident: null,
      postmortem: null,
      pagerdutyId: null,
      severity: 'UNKNOWN',
      acknowledgedAt: null,
      rootCause: null,
      ...truth,
    });
  }

  private lastEntryIntoDone(issue: SiteIssue): number | null {
    let entered: number | null = null;
    for (const history of issue.histories) {
      for (const change of history.items) {
        if (change.fieldId !== 'status') continue;
        if (statusById(change.to!).category === 'done' && statusById(change.from!).category !== 'done') entered = history.at;
      }
    }
    return entered;
  }

  private changeTime(issue: SiteIssue, at: Date): number {
    const time = wholeSeconds(at, 'change time');
    if (time < issue.created) throw new RangeError(`${issue.key} cannot change at ${iso(time)}, before its creation ${iso(issue.created)}`);
    return time;
  }

  private addHistory(issue: SiteIssue, at: number, author: string | null, items: ChangeItem[]): void {
    issue.histories.push({ id: String(this.nextHistoryId++), at, author: author ? userNamed(author) : null, items });
    issue.updated = Math.max(issue.updated, at);
    this.changeCount++;
  }
}

const NEW_STATUS_NAMES = new Set(['Open', 'New', 'To Do']);

function item(field: string, from: string | null, to: string | null): ChangeItem {
  return { field, fieldtype: 'jira', fieldId: field, from: null, fromString: from, to: null, toString: to };
}

function userNamed(name: string): SiteUser {
  const user = SITE_USERS.find((candidate) => candidate.displayName === name);
  if (!user) throw new RangeError(`no user named '${name}': ${PEOPLE.join(', ')}`);
  return user;
}

// ---- generation ----

export interface JiraHistoryOptions {
  /** Same seed and inputs => identical site. */
  seed: number;
  /** Jira activity after `end` has not happened yet. */
  end: Date;
  /** The PagerDuty incidents the tickets refer to (PagerDutyHistory.expectedFacts()). */
  pagerduty: { incidents: readonly ExpectedIncidentFacts[]; subdomain: string };
  /** How PagerDuty priorities become severities; default METRICS.md section 4. */
  severity?: SeverityRules;
  /** Incidents only Jira knows; default 12. */
  jiraOnlyIncidents?: number;
  siteUrl?: string;
  /**
   * Also fill the Root cause and PagerDuty incident custom fields; the truth
   * then assumes jira.fields.rootCause / pagerdutyIncident name them.
   */
  customFields?: boolean;
  /** Share of issues whose changelog is longer than a search embeds; default 0.05. */
  longChangelogShare?: number;
}

/** Chronic causes, most frequent first: they come back within 90 days. */
const CHRONIC_CAUSES = ['db-connection-pool', 'bad-deploy', 'expired-tls-certificate', 'dns-misconfiguration', 'disk-full', 'upstream-rate-limit'];
/** Share of root causes that are chronic; the rest are one of many component failures, which recur now and then. */
const CHRONIC_SHARE = 0.15;
const CAUSE_COMPONENTS = [
  'checkout-api',
  'payments-gateway',
  'search-index',
  'auth-service',
  'notification-worker',
  'billing-batch',
  'cdn-edge',
  'postgres-primary',
  'kafka-cluster',
  'image-resizer',
  'feature-store',
  'session-cache',
  'mobile-bff',
  'report-export',
  'email-relay',
  'inventory-sync',
];
const CAUSE_FAILURES = [
  'oom-kill',
  'slow-query',
  'thread-pool-exhaustion',
  'bad-config-push',
  'dependency-timeout',
  'disk-pressure',
  'schema-migration-lock',
  'retry-storm',
  'clock-skew',
  'memory-leak',
  'queue-backlog',
  'cache-stampede',
];

/** Post-mortem deadlines of the default SLA policy (METRICS.md 5). */
const POSTMORTEM_DUE_MS: Partial<Record<Severity, number>> = { SEV1: 48 * HOUR_MS, SEV2: 7 * DAY_MS };

const PRIORITY_BY_SEVERITY: Record<Severity, string> = {
  SEV1: 'Highest',
  SEV2: 'High',
  SEV3: 'Medium',
  SEV4: 'Low',
  UNKNOWN: 'Lowest',
};

const JIRA_ONLY_TITLES = [
  'Customer reports failed card payments in EU',
  'Status page shows stale data',
  'Support inbox flooded with login errors',
  'Partner API returning 502 for bulk orders',
  'Nightly export missing rows',
  'Mobile push notifications delayed',
];

/** A small counter-based generator (splitmix32): seeded, fast, no state beyond one number. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4_294_967_296;
  };
}

export function generateJiraHistory(options: JiraHistoryOptions): JiraSiteHistory {
  const end = wholeSeconds(options.end, 'end');
  const rng = seededRandom(options.seed);
  const between = (low: number, high: number) => low + (high - low) * rng();
  const pick = <T>(values: readonly T[]) => values[Math.floor(rng() * values.length)]!;
  const chance = (share: number) => rng() < share;
  const rules = options.severity ?? { map: {}, fromUrgency: {} };
  const customFields = options.customFields ?? false;
  const longShare = options.longChangelogShare ?? 0.05;
  const site = new JiraSiteHistory(options.siteUrl);
  const subdomain = options.pagerduty.subdomain;
  const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  const person = () => pick(PEOPLE);
  // Zipf-like among the chronic causes: the first ones recur most.
  const chronicWeights = CHRONIC_CAUSES.map((_, index) => 1 / (index + 1));
  const chronicTotal = chronicWeights.reduce((sum, weight) => sum + weight, 0);
  const drawCause = () => {
    if (!chance(CHRONIC_SHARE)) return `${pick(CAUSE_COMPONENTS)}-${pick(CAUSE_FAILURES)}`;
    let r = rng() * chronicTotal;
    for (let index = 0; index < CHRONIC_CAUSES.length; index++) {
      r -= chronicWeights[index]!;
      if (r < 0) return CHRONIC_CAUSES[index]!;
    }
    return CHRONIC_CAUSES[0]!;
  };
  // Teams write the same cause in their own style; normalisation makes them one key.
  const causeLabel = (cause: string) => {
    const style = rng();
    const written =
      style < 0.5 ? cause : style < 0.75 ? cause.replace(/-/g, '_') : cause.replace(/(^|-)([a-z])/g, (_m, dash, letter) => `${dash}${letter.toUpperCase()}`);
    return `root-cause:${written}`;
  };
  let reopenedLeftOpen = false;
  let reopenedAndDone = false;

  /** Edits that make a changelog longer than the 40 histories a search embeds. */
  const padChangelog = (key: string, from: number, until: number) => {
    if (!chance(longShare) || until - from < 2 * MINUTE_MS) return;
    const count = 41 + Math.floor(rng() * 15);
    const step = (until - from) / (count + 1);
    for (let n = 1; n <= count; n++) site.edit(key, at(from + n * step), { assignee: person() }, person());
  };

  const ticketStyles = ['summary', 'description', 'label', 'remote', 'field'] as const;
  let ticketCount = 0;

  const createTicket = (incident: {
    pagerdutyId: string | null;
    title: string;
    createdAt: number;
    resolvedAt: number | null;
    severity: Severity;
    number: number;
  }): string | undefined => {
    const created = incident.pagerdutyId ? incident.createdAt + between(2, 15) * MINUTE_MS : incident.createdAt;
    if (created >= end) return undefined;
    const jsm = chance(0.5);
    const style = incident.pagerdutyId ? ticketStyles[ticketCount++ % ticketStyles.length]! : null;
    const pdUrl = incident.pagerdutyId ? `https://${subdomain}.pagerduty.com/incidents/${incident.pagerdutyId}` : null;
    const labels = jsm ? [] : ['incident'];
    let summary = incident.title;
    let description: AdfNode = adfDoc([adfParagraph([{ type: 'text', text: 'Customer impact under investigation.' }])]);
    const custom: Record<string, unknown> = {};
    if (style === 'summary') summary = `[PD ${incident.pagerdutyId}] ${incident.title}`;
    if (style === 'description' || (style === 'field' && !customFields)) {
      description = adfDoc([
        adfParagraph([
          { type: 'text', text: 'Opened from ' },
          { type: 'text', text: 'the PagerDuty incident', marks: [{ type: 'link', attrs: { href: pdUrl } }] },
          { type: 'text', text: '.' },
        ]),
      ]);
    }
    if (style === 'label') labels.push(`pagerduty-${incident.pagerdutyId}`);
    if (style === 'field' && customFields) custom[CUSTOM_FIELDS.pagerdutyIncident.id] = chance(0.5) ? incident.pagerdutyId : pdUrl;
    if (jsm) {
      custom[CUSTOM_FIELDS.severity.id] = { value: `Sev ${incident.severity === 'UNKNOWN' ? 4 : incident.severity.slice(3)}` };
    }
    const firstResponse = created + between(3, 45) * MINUTE_MS;
    // JSM's SLA stops when an agent first replies, usually a little before the ticket moves on.
    const slaStop = jsm ? wholeSeconds(new Date(firstResponse - between(0, 3) * MINUTE_MS), 'SLA stop') : null;
    if (jsm && slaStop !== null && slaStop < end) {
      custom[CUSTOM_FIELDS.firstResponseSla.id] = slaValue(created, slaStop, incident.severity);
    }
    const key = site.addIssue({
      project: jsm ? 'INC' : 'OPS',
      issueType: jsm ? ISSUE_TYPES.incident : ISSUE_TYPES.task,
      summary,
      description,
      created: at(created),
      priority: PRIORITY_BY_SEVERITY[incident.severity],
      labels,
      assignee: chance(0.9) ? person() : null,
      custom,
    });
    if (style === 'remote') site.addRemoteLink(key, pdUrl!, `PagerDuty incident #${incident.number}`, at(created + 30_000));
    const cause = chance(0.35) ? drawCause() : null;
    if (cause !== null) site.edit(key, at(created + 60_000), { labels: [...site.issue(key).labels, causeLabel(cause)] });
    site.declare(key, {
      kind: 'incident',
      incident: incident.pagerdutyId ?? key,
      pagerdutyId: incident.pagerdutyId,
      severity: incident.pagerdutyId ? 'UNKNOWN' : incident.severity,
      rootCause: cause,
      acknowledgedAt: slaStop !== null && slaStop < end ? slaStop : null,
    });
    padChangelog(key, created + 2 * MINUTE_MS, Math.min(firstResponse, end));
    if (firstResponse >= end) return key;
    site.transition(key, 'In Progress', at(firstResponse), person());
    const resolved = incident.resolvedAt !== null ? Math.max(incident.resolvedAt + between(1, 30) * MINUTE_MS, firstResponse + MINUTE_MS) : null;
    if (resolved !== null && resolved < end) site.transition(key, 'Resolved', at(resolved), person());
    return key;
  };

  const createActionItems = (
    parent: { key: string; incident: string; postmortem: string | null; created: number; subtasksAllowed: boolean },
  ) => {
    const count = 1 + Math.floor(rng() * 4);
    for (let n = 0; n < count; n++) {
      const created = parent.created + between(0.5, 48) * HOUR_MS;
      if (created >= end) continue;
      const asSubtask = parent.subtasksAllowed && chance(0.5);
      const dueDays = chance(0.88) ? 7 + Math.floor(rng() * 24) : null;
      const duedate = dueDays === null ? null : new Date(created + dueDays * DAY_MS).toISOString().slice(0, 10);
      const key = site.addIssue({
        project: 'OPS',
        issueType: asSubtask ? ISSUE_TYPES.subtask : ISSUE_TYPES.task,
        summary: pick(ACTION_TITLES),
        created: at(created),
        labels: ['action-item'],
        duedate,
        assignee: chance(0.92) ? person() : null,
        parentKey: asSubtask ? parent.key : null,
        priority: pick(['High', 'Medium', 'Low']),
      });
      if (!asSubtask) {
        if (chance(0.5)) site.link(key, parent.key, LINK_TYPES.relates, at(created + 20_000));
        else site.link(parent.key, key, LINK_TYPES.relates, at(created + 20_000));
      }
      site.declare(key, { kind: 'action_item', incident: parent.incident, postmortem: parent.postmortem });
      const dueEnd = duedate === null ? null : Date.parse(`${duedate}T00:00:00Z`) + DAY_MS;
      const roll = rng();
      let completion: number | null;
      if (dueEnd === null) completion = roll < 0.6 ? created + between(1, 20) * DAY_MS : null;
      else if (roll < 0.5) completion = created + (dueEnd - created) * between(0.2, 0.95);
      else if (roll < 0.7) completion = dueEnd + between(1, 240) * HOUR_MS;
      else completion = null;
      const started = created + between(1, 72) * HOUR_MS;
      padChangelog(key, created + MINUTE_MS, Math.min(started, completion ?? started, end));
      if (started < end && (completion === null || started < completion)) site.transition(key, 'In Progress', at(started), person());
      if (completion === null || completion >= end) continue;
      site.transition(key, 'Done', at(completion), person());
      const reopenAt = completion + DAY_MS;
      if (!reopenedLeftOpen && reopenAt + DAY_MS < end) {
        reopenedLeftOpen = true;
        site.transition(key, 'Reopened', at(reopenAt), person());
      } else if (!reopenedAndDone && reopenAt + 3 * DAY_MS < end) {
        reopenedAndDone = true;
        site.transition(key, 'Reopened', at(reopenAt), person());
        site.transition(key, 'Done', at(reopenAt + 2 * DAY_MS), person());
      } else if (chance(0.15) && completion + 3 * DAY_MS < end) {
        // Closing a done item is housekeeping, not a second completion.
        site.transition(key, 'Closed', at(completion + 3 * DAY_MS), null);
      }
    }
  };

  const createPostmortem = (incident: {
    externalId: string;
    pagerdutyId: string | null;
    ticketKey: string | undefined;
    title: string;
    resolvedAt: number;
    severity: Severity;
  }) => {
    const created = incident.resolvedAt + between(1, 30) * HOUR_MS;
    if (created >= end) return;
    const ticket = incident.ticketKey ? site.issue(incident.ticketKey) : undefined;
    const jsm = ticket ? ticket.project.key === 'INC' : chance(0.5);
    const asSubtask = !jsm && ticket !== undefined && chance(0.3);
    const labels = jsm ? [] : ['postmortem'];
    let summary = `Post-mortem: ${incident.title}`;
    if (!ticket) {
      if (chance(0.5)) summary = `Post-mortem: [PD ${incident.pagerdutyId}] ${incident.title}`;
      else labels.push(`pagerduty-${incident.pagerdutyId}`);
    }
    const cause = chance(0.9) ? drawCause() : null;
    const causeInField = cause !== null && customFields && chance(0.5);
    if (cause !== null && !causeInField) labels.push(causeLabel(cause));
    const key = site.addIssue({
      project: jsm ? 'INC' : 'OPS',
      issueType: jsm ? ISSUE_TYPES.review : asSubtask ? ISSUE_TYPES.subtask : ISSUE_TYPES.task,
      summary,
      created: at(created),
      status: 'To Do',
      labels,
      assignee: person(),
      parentKey: asSubtask ? ticket!.key : null,
      custom: causeInField ? { [CUSTOM_FIELDS.rootCause.id]: { value: cause.replace(/-/g, ' ') } } : {},
    });
    if (ticket && !asSubtask) site.link(key, ticket.key, jsm ? LINK_TYPES.review : LINK_TYPES.relates, at(created + 10_000));
    site.declare(key, { kind: 'postmortem', incident: incident.externalId, rootCause: cause });

    const due = POSTMORTEM_DUE_MS[incident.severity] ?? 7 * DAY_MS;
    const deadline = incident.resolvedAt + due;
    const roll = rng();
    let completion: number | null =
      roll < 0.65 ? Math.max(created + HOUR_MS, incident.resolvedAt + due * between(0.3, 0.95)) : roll < 0.87 ? deadline + due * between(0.1, 1.5) : null;
    if (completion !== null && completion <= created + HOUR_MS) completion = created + HOUR_MS;
    const started = created + between(0.5, 1) * HOUR_MS;
    padChangelog(key, created + MINUTE_MS, Math.min(started, end));
    if (started < end) site.transition(key, 'In Progress', at(started), person());
    if (completion !== null && completion < end) {
      const review = Math.max(started + MINUTE_MS, completion - between(0.1, 0.5) * HOUR_MS);
      if (review < completion) site.transition(key, 'In Review', at(review), person());
      site.transition(key, 'Done', at(completion), person());
    }
    createActionItems({ key, incident: incident.externalId, postmortem: key, created, subtasksAllowed: !jsm && !asSubtask });
  };

  let pdNumber = 0;
  const pagerduty = [...options.pagerduty.incidents].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  for (const incident of pagerduty) {
    pdNumber += 1;
    if (incident.merged) continue;
    const severity = normaliseSeverity(incident.priority, incident.urgency, rules);
    const createdAt = Date.parse(incident.createdAt);
    const resolvedAt = incident.resolvedAt ? Date.parse(incident.resolvedAt) : null;
    const title = `Incident ${incident.id} on ${incident.serviceId}`;
    const ticketShare = severity === 'SEV1' || severity === 'SEV2' ? 0.75 : severity === 'SEV3' ? 0.2 : 0.05;
    const ticketKey = chance(ticketShare)
      ? createTicket({ pagerdutyId: incident.id, title, createdAt, resolvedAt, severity, number: pdNumber })
      : undefined;
    if ((severity === 'SEV1' || severity === 'SEV2') && resolvedAt !== null && chance(0.85)) {
      createPostmortem({ externalId: incident.id, pagerdutyId: incident.id, ticketKey, title, resolvedAt, severity });
    }
  }

  const jiraOnly = options.jiraOnlyIncidents ?? 12;
  const times = pagerduty.map((incident) => Date.parse(incident.createdAt));
  const first = times.length > 0 ? Math.min(...times) : end - 90 * DAY_MS;
  for (let n = 0; n < jiraOnly; n++) {
    const created = first + ((end - 2 * DAY_MS - first) * (n + rng())) / jiraOnly;
    const severity = pick(['SEV1', 'SEV2', 'SEV2', 'SEV3', 'SEV3', 'SEV4'] as const);
    const resolvedAt = created + between(1, 12) * HOUR_MS;
    const title = pick(JIRA_ONLY_TITLES);
    const key = createTicket({ pagerdutyId: null, title, createdAt: created, resolvedAt, severity, number: 0 });
    if (key === undefined) continue;
    if (n === 0 && resolvedAt + 2 * DAY_MS < end) {
      // One ticket is reopened after its fix did not hold; resolution is the last one.
      site.transition(key, 'Reopened', at(resolvedAt + DAY_MS), person());
      site.transition(key, 'In Progress', at(resolvedAt + DAY_MS + HOUR_MS), person());
      site.transition(key, 'Resolved', at(resolvedAt + DAY_MS + 3 * HOUR_MS), person());
    }
    const resolved = site.issue(key).resolutiondate;
    if ((severity === 'SEV1' || severity === 'SEV2') && resolved !== null && chance(0.85)) {
      createPostmortem({ externalId: key, pagerdutyId: null, ticketKey: key, title, resolvedAt: resolved, severity });
    } else if (severity === 'SEV3') {
      const ticket = site.issue(key);
      createActionItems({ key, incident: key, postmortem: null, created: ticket.created, subtasksAllowed: ticket.project.key === 'OPS' });
    }
  }
  return site;
}

const ACTION_TITLES = [
  'Add alert on connection pool saturation',
  'Automate certificate renewal',
  'Write runbook for failover',
  'Add canary stage to deploy pipeline',
  'Raise disk usage alert threshold',
  'Load-test the checkout service',
  'Document DNS change procedure',
  'Add retry budget to upstream client',
  'Review on-call escalation policy',
  'Add dashboard for queue depth',
];

export function adfDoc(content: AdfNode[]): AdfNode {
  return { type: 'doc', version: 1, content };
}

export function adfParagraph(content: AdfNode[]): AdfNode {
  return { type: 'paragraph', content };
}

/** A "Time to first response" value with one completed cycle, as JSM returns it. */
function slaValue(start: number, stop: number, severity: Severity): unknown {
  const goal = severity === 'SEV1' ? 15 * MINUTE_MS : severity === 'SEV2' ? 30 * MINUTE_MS : 2 * HOUR_MS;
  const elapsed = stop - start;
  const point = (ms: number) => ({
    iso8601: new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000'),
    jira: new Date(ms).toISOString().replace('Z', '+0000'),
    friendly: new Date(ms).toISOString().slice(0, 16).replace('T', ' '),
    epochMillis: ms,
  });
  const duration = (ms: number) => ({ millis: ms, friendly: `${Math.round(ms / MINUTE_MS)}m` });
  return {
    id: '1',
    name: CUSTOM_FIELDS.firstResponseSla.name,
    _links: { self: 'https://acme.atlassian.net/rest/servicedeskapi/request/1/sla/1' },
    completedCycles: [
      {
        startTime: point(start),
        stopTime: point(stop),
        breachTime: point(start + goal),
        breached: elapsed > goal,
        goalDuration: duration(goal),
        elapsedTime: duration(elapsed),
        remainingTime: duration(goal - elapsed),
      },
    ],
    slaDisplayFormat: 'NEW_SLA_FORMAT',
  };
}
