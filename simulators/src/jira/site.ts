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
 * - Every change goes through `addIssue` / `transition` / `edit` / `link` /
 *   `moveIssue` / `deleteIssue`, which keep the changelog, `updated` and the
 *   ground truth in step.
 */
import type { Severity } from '../severity.ts';
import {
  PEOPLE,
  PROJECTS,
  SITE_USERS,
  statusById,
  statusByName,
  type SiteIssueType,
  type SiteLinkType,
  type SiteProject,
  type SiteUser,
} from './site-catalog.ts';
import { adfPlainText, type AdfNode } from './adf.ts';

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

/** Ground truth of the site, in the project's terms (docs/metrics.md §1, 6, 7, 8). */
export interface JiraExpectedFacts {
  /** PagerDuty incident id to the key of its Jira ticket. */
  ticketByPagerDutyId: Map<string, string>;
  /** Incidents that exist only in Jira, by issue key. */
  jiraIncidents: Map<
    string,
    { severity: Severity; createdAt: string; acknowledgedAt: string | null; resolvedAt: string | null }
  >;
  /** Root cause key by incident external id (PagerDuty id or Jira key). */
  rootCauseByIncident: Map<string, string>;
  postmortems: Map<
    string,
    { incidents: string[]; createdAt: string; completedAt: string | null; rootCauseKey: string | null }
  >;
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

export type Kind = 'incident' | 'postmortem' | 'action_item';

export interface Truth {
  kind: Kind;
  /** External id of the incident the issue belongs to. */
  incident: string | null;
  postmortem: string | null;
  pagerdutyId: string | null;
  severity: Severity;
  acknowledgedAt: number | null;
  rootCause: string | null;
}

export function wholeSeconds(date: Date, what: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) {
    throw new RangeError(`${what} is not a date`);
  }
  return Math.floor(ms / 1000) * 1000;
}

export const iso = (ms: number) => new Date(ms).toISOString();

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
    if (!issue) {
      throw new RangeError(`no issue ${key}`);
    }
    return issue;
  }

  issueById(id: string): SiteIssue | undefined {
    for (const issue of this.issues.values()) {
      if (issue.id === id) {
        return issue;
      }
    }
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
    if (spec.parentKey) {
      this.issue(spec.parentKey);
    }
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
      {
        field: 'status',
        fieldtype: 'jira',
        fieldId: 'status',
        from: from.id,
        fromString: from.name,
        to: to.id,
        toString: to.name,
      },
    ]);
    issue.statusId = to.id;
    if (to.category === 'done' && from.category !== 'done') {
      issue.resolutiondate = time;
    }
    if (to.category !== 'done') {
      issue.resolutiondate = null;
    }
    const truth = this.truth.get(key);
    if (
      truth?.kind === 'incident' &&
      truth.acknowledgedAt === null &&
      NEW_STATUS_NAMES.has(from.name) &&
      !NEW_STATUS_NAMES.has(to.name)
    ) {
      truth.acknowledgedAt = time;
    }
  }

  /** Summary, description, labels, assignee, priority, due date or a custom field, with their changelog entries. */
  edit(
    key: string,
    at: Date,
    change: {
      summary?: string;
      description?: AdfNode | null;
      labels?: string[];
      assignee?: string | null;
      priority?: string;
      duedate?: string | null;
      custom?: Record<string, unknown>;
    },
    author: string | null = null
  ): void {
    const issue = this.issue(key);
    const time = this.changeTime(issue, at);
    const items: ChangeItem[] = [];
    if (change.summary !== undefined) {
      items.push(item('summary', issue.summary, change.summary));
      issue.summary = change.summary;
    }
    if (change.description !== undefined) {
      items.push(item('description', null, change.description === null ? null : adfPlainText(change.description)));
      issue.description = change.description;
    }
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
      items.push({
        ...item(fieldId, null, typeof value === 'string' ? value : JSON.stringify(value)),
        fieldtype: 'custom',
      });
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

  /**
   * Moves an issue to another project, as Jira's move does: a new key in
   * that project, the same id, links and sub-tasks following it, and a
   * changelog entry for the key and the project.
   */
  moveIssue(key: string, project: keyof typeof PROJECTS, at: Date): string {
    const issue = this.issue(key);
    const target = PROJECTS[project];
    if (target.key === issue.project.key) {
      throw new RangeError(`${key} is already in project ${target.key}`);
    }
    const time = this.changeTime(issue, at);
    const number = (this.projectCounters.get(target.key) ?? 0) + 1;
    this.projectCounters.set(target.key, number);
    const moved = `${target.key}-${number}`;
    this.addHistory(issue, time, null, [item('Key', key, moved), item('project', issue.project.name, target.name)]);
    issue.key = moved;
    issue.project = target;
    this.issues.delete(key);
    this.issues.set(moved, issue);
    for (const link of this.links) {
      link.outwardKey = link.outwardKey === key ? moved : link.outwardKey;
      link.inwardKey = link.inwardKey === key ? moved : link.inwardKey;
    }
    for (const other of this.issues.values()) {
      other.parentKey = other.parentKey === key ? moved : other.parentKey;
    }
    const truth = this.truth.get(key);
    if (truth) {
      this.truth.delete(key);
      this.truth.set(moved, truth);
    }
    return moved;
  }

  /** Deletes an issue, as Jira does: its links and sub-tasks go with it, and nothing records it. */
  deleteIssue(key: string): void {
    this.issue(key);
    for (const subtask of [...this.issues.values()].filter((other) => other.parentKey === key)) {
      this.deleteIssue(subtask.key);
    }
    this.issues.delete(key);
    this.truth.delete(key);
    for (let index = this.links.length - 1; index >= 0; index--) {
      const link = this.links[index]!;
      if (link.outwardKey === key || link.inwardKey === key) {
        this.links.splice(index, 1);
      }
    }
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
          if (!facts.ticketByPagerDutyId.has(truth.pagerdutyId)) {
            facts.ticketByPagerDutyId.set(truth.pagerdutyId, key);
          }
        } else {
          facts.jiraIncidents.set(key, {
            severity: truth.severity,
            createdAt: iso(issue.created),
            acknowledgedAt: truth.acknowledgedAt === null ? null : iso(truth.acknowledgedAt),
            resolvedAt: issue.resolutiondate === null ? null : iso(issue.resolutiondate),
          });
        }
        if (truth.rootCause !== null && truth.incident !== null) {
          facts.rootCauseByIncident.set(truth.incident, truth.rootCause);
        }
      } else if (truth.kind === 'postmortem') {
        facts.postmortems.set(key, {
          incidents: [truth.incident!],
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
    // The latest post-mortem's root cause wins over the ticket's (docs/metrics.md §8).
    for (const [incident, postmortems] of postmortemsByIncident) {
      const withCause = postmortems
        .filter((postmortem) => this.truth.get(postmortem.key)!.rootCause !== null)
        .sort((a, b) => b.created - a.created || Number(b.id) - Number(a.id));
      if (withCause.length > 0) {
        facts.rootCauseByIncident.set(incident, this.truth.get(withCause[0]!.key)!.rootCause!);
      }
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
        if (change.fieldId !== 'status') {
          continue;
        }
        if (statusById(change.to!).category === 'done' && statusById(change.from!).category !== 'done') {
          entered = history.at;
        }
      }
    }
    return entered;
  }

  private changeTime(issue: SiteIssue, at: Date): number {
    const time = wholeSeconds(at, 'change time');
    if (time < issue.created) {
      throw new RangeError(`${issue.key} cannot change at ${iso(time)}, before its creation ${iso(issue.created)}`);
    }
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
  if (!user) {
    throw new RangeError(`no user named '${name}': ${PEOPLE.join(', ')}`);
  }
  return user;
}
