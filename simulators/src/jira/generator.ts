/**
 * Generation of a seeded Jira site for a PagerDuty history: incident tickets
 * referring to PagerDuty incidents in each of the ways teams do, a few
 * Jira-only incidents, post-mortems for most SEV1/SEV2 incidents (some late,
 * some missing), action items with owners and due dates (on time, late,
 * overdue, without due date, one reopened), and root causes that repeat.
 * Pure: no I/O, no clock, no Math.random.
 */
import type { ExpectedIncidentFacts } from '../pagerduty/history.ts';
import { splitmix32 } from '../random.ts';
import { gradeSeverity, type Severity, type SeverityOf } from '../severity.ts';
import { adfDoc, adfParagraph, type AdfNode } from './adf.ts';
import { CUSTOM_FIELDS, ISSUE_TYPES, LINK_TYPES, PEOPLE } from './site-catalog.ts';
import { JiraSiteHistory, wholeSeconds } from './site.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface JiraHistoryOptions {
  /** Same seed and inputs => identical site. */
  seed: number;
  /** Jira activity after `end` has not happened yet. */
  end: Date;
  /** The PagerDuty incidents the tickets refer to (PagerDutyHistory.expectedFacts()). */
  pagerduty: { incidents: readonly ExpectedIncidentFacts[]; subdomain: string };
  /** How PagerDuty priorities become severities; default `gradeSeverity`. */
  severity?: SeverityOf;
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
const CHRONIC_CAUSES = [
  'db-connection-pool',
  'bad-deploy',
  'expired-tls-certificate',
  'dns-misconfiguration',
  'disk-full',
  'upstream-rate-limit',
];
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

/** Post-mortem deadlines of the default SLA policy (docs/metrics.md §5). */
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

export function generateJiraHistory(options: JiraHistoryOptions): JiraSiteHistory {
  const end = wholeSeconds(options.end, 'end');
  const rng = splitmix32(options.seed);
  const between = (low: number, high: number) => low + (high - low) * rng();
  const pick = <T>(values: readonly T[]) => values[Math.floor(rng() * values.length)]!;
  const chance = (share: number) => rng() < share;
  const severityOf = options.severity ?? gradeSeverity;
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
    if (!chance(CHRONIC_SHARE)) {
      return `${pick(CAUSE_COMPONENTS)}-${pick(CAUSE_FAILURES)}`;
    }
    let r = rng() * chronicTotal;
    for (let index = 0; index < CHRONIC_CAUSES.length; index++) {
      r -= chronicWeights[index]!;
      if (r < 0) {
        return CHRONIC_CAUSES[index]!;
      }
    }
    return CHRONIC_CAUSES[0]!;
  };
  // Teams write the same cause in their own style; normalisation makes them one key.
  const causeLabel = (cause: string) => {
    const style = rng();
    const written =
      style < 0.5
        ? cause
        : style < 0.75
          ? cause.replace(/-/g, '_')
          : cause.replace(/(^|-)([a-z])/g, (_m, dash, letter) => `${dash}${letter.toUpperCase()}`);
    return `root-cause:${written}`;
  };
  let reopenedLeftOpen = false;
  let reopenedAndDone = false;

  /** Edits that make a changelog longer than the 40 histories a search embeds. */
  const padChangelog = (key: string, from: number, until: number) => {
    if (!chance(longShare) || until - from < 2 * MINUTE_MS) {
      return;
    }
    const count = 41 + Math.floor(rng() * 15);
    const step = (until - from) / (count + 1);
    for (let n = 1; n <= count; n++) {
      site.edit(key, at(from + n * step), { assignee: person() }, person());
    }
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
    if (created >= end) {
      return undefined;
    }
    const jsm = chance(0.5);
    const style = incident.pagerdutyId ? ticketStyles[ticketCount++ % ticketStyles.length]! : null;
    const pdUrl = incident.pagerdutyId ? `https://${subdomain}.pagerduty.com/incidents/${incident.pagerdutyId}` : null;
    const labels = jsm ? [] : ['incident'];
    let summary = incident.title;
    let description: AdfNode = adfDoc([adfParagraph([{ type: 'text', text: 'Customer impact under investigation.' }])]);
    const custom: Record<string, unknown> = {};
    if (style === 'summary') {
      summary = `[PD ${incident.pagerdutyId}] ${incident.title}`;
    }
    if (style === 'description' || (style === 'field' && !customFields)) {
      description = adfDoc([
        adfParagraph([
          { type: 'text', text: 'Opened from ' },
          { type: 'text', text: 'the PagerDuty incident', marks: [{ type: 'link', attrs: { href: pdUrl } }] },
          { type: 'text', text: '.' },
        ]),
      ]);
    }
    if (style === 'label') {
      labels.push(`pagerduty-${incident.pagerdutyId}`);
    }
    if (style === 'field' && customFields) {
      custom[CUSTOM_FIELDS.pagerdutyIncident.id] = chance(0.5) ? incident.pagerdutyId : pdUrl;
    }
    if (jsm) {
      custom[CUSTOM_FIELDS.severity.id] = {
        value: `Sev ${incident.severity === 'UNKNOWN' ? 4 : incident.severity.slice(3)}`,
      };
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
    if (style === 'remote') {
      site.addRemoteLink(key, pdUrl!, `PagerDuty incident #${incident.number}`, at(created + 30_000));
    }
    const cause = chance(0.35) ? drawCause() : null;
    if (cause !== null) {
      site.edit(key, at(created + 60_000), { labels: [...site.issue(key).labels, causeLabel(cause)] });
    }
    site.declare(key, {
      kind: 'incident',
      incident: incident.pagerdutyId ?? key,
      pagerdutyId: incident.pagerdutyId,
      severity: incident.pagerdutyId ? 'UNKNOWN' : incident.severity,
      rootCause: cause,
      acknowledgedAt: slaStop !== null && slaStop < end ? slaStop : null,
    });
    padChangelog(key, created + 2 * MINUTE_MS, Math.min(firstResponse, end));
    if (firstResponse >= end) {
      return key;
    }
    site.transition(key, 'In Progress', at(firstResponse), person());
    const resolved =
      incident.resolvedAt !== null
        ? Math.max(incident.resolvedAt + between(1, 30) * MINUTE_MS, firstResponse + MINUTE_MS)
        : null;
    if (resolved !== null && resolved < end) {
      site.transition(key, 'Resolved', at(resolved), person());
    }
    return key;
  };

  const createActionItems = (parent: {
    key: string;
    incident: string;
    postmortem: string | null;
    created: number;
    subtasksAllowed: boolean;
  }) => {
    const count = 1 + Math.floor(rng() * 4);
    for (let n = 0; n < count; n++) {
      const created = parent.created + between(0.5, 48) * HOUR_MS;
      if (created >= end) {
        continue;
      }
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
        if (chance(0.5)) {
          site.link(key, parent.key, LINK_TYPES.relates, at(created + 20_000));
        } else {
          site.link(parent.key, key, LINK_TYPES.relates, at(created + 20_000));
        }
      }
      site.declare(key, { kind: 'action_item', incident: parent.incident, postmortem: parent.postmortem });
      const dueEnd = duedate === null ? null : Date.parse(`${duedate}T00:00:00Z`) + DAY_MS;
      const roll = rng();
      let completion: number | null;
      if (dueEnd === null) {
        completion = roll < 0.6 ? created + between(1, 20) * DAY_MS : null;
      } else if (roll < 0.5) {
        completion = created + (dueEnd - created) * between(0.2, 0.95);
      } else if (roll < 0.7) {
        completion = dueEnd + between(1, 240) * HOUR_MS;
      } else {
        completion = null;
      }
      const started = created + between(1, 72) * HOUR_MS;
      padChangelog(key, created + MINUTE_MS, Math.min(started, completion ?? started, end));
      if (started < end && (completion === null || started < completion)) {
        site.transition(key, 'In Progress', at(started), person());
      }
      if (completion === null || completion >= end) {
        continue;
      }
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
    if (created >= end) {
      return;
    }
    const ticket = incident.ticketKey ? site.issue(incident.ticketKey) : undefined;
    const jsm = ticket ? ticket.project.key === 'INC' : chance(0.5);
    const asSubtask = !jsm && ticket !== undefined && chance(0.3);
    const labels = jsm ? [] : ['postmortem'];
    let summary = `Post-mortem: ${incident.title}`;
    if (!ticket) {
      if (chance(0.5)) {
        summary = `Post-mortem: [PD ${incident.pagerdutyId}] ${incident.title}`;
      } else {
        labels.push(`pagerduty-${incident.pagerdutyId}`);
      }
    }
    const cause = chance(0.9) ? drawCause() : null;
    const causeInField = cause !== null && customFields && chance(0.5);
    if (cause !== null && !causeInField) {
      labels.push(causeLabel(cause));
    }
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
    if (ticket && !asSubtask) {
      site.link(key, ticket.key, jsm ? LINK_TYPES.review : LINK_TYPES.relates, at(created + 10_000));
    }
    site.declare(key, { kind: 'postmortem', incident: incident.externalId, rootCause: cause });

    const due = POSTMORTEM_DUE_MS[incident.severity] ?? 7 * DAY_MS;
    const deadline = incident.resolvedAt + due;
    const roll = rng();
    let completion: number | null =
      roll < 0.65
        ? Math.max(created + HOUR_MS, incident.resolvedAt + due * between(0.3, 0.95))
        : roll < 0.87
          ? deadline + due * between(0.1, 1.5)
          : null;
    if (completion !== null && completion <= created + HOUR_MS) {
      completion = created + HOUR_MS;
    }
    const started = created + between(0.5, 1) * HOUR_MS;
    padChangelog(key, created + MINUTE_MS, Math.min(started, end));
    if (started < end) {
      site.transition(key, 'In Progress', at(started), person());
    }
    if (completion !== null && completion < end) {
      const review = Math.max(started + MINUTE_MS, completion - between(0.1, 0.5) * HOUR_MS);
      if (review < completion) {
        site.transition(key, 'In Review', at(review), person());
      }
      site.transition(key, 'Done', at(completion), person());
    }
    createActionItems({
      key,
      incident: incident.externalId,
      postmortem: key,
      created,
      subtasksAllowed: !jsm && !asSubtask,
    });
  };

  let pdNumber = 0;
  const pagerduty = [...options.pagerduty.incidents].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
  );
  for (const incident of pagerduty) {
    pdNumber += 1;
    if (incident.merged) {
      continue;
    }
    const severity = severityOf(incident.priority, incident.urgency);
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
    if (key === undefined) {
      continue;
    }
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
      createActionItems({
        key,
        incident: key,
        postmortem: null,
        created: ticket.created,
        subtasksAllowed: ticket.project.key === 'OPS',
      });
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
