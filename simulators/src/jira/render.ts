/** Issues, users, statuses and fields rendered as Jira Cloud's REST API v3 returns them. */
import {
  CUSTOM_FIELDS,
  GERMAN_FIELD_NAMES,
  RESOLUTION_SLA_FIELD,
  statusById,
  type SiteLocale,
  type SiteStatus,
  type SiteUser,
} from './site-catalog.ts';
import type { JiraSiteHistory, SiteHistory, SiteIssue } from './site.ts';
import { zoneOffsetMinutes } from '../time-zones.ts';
export const SYSTEM_FIELDS: Array<{ id: string; name: string; type: string; items?: string }> = [
  { id: 'summary', name: 'Summary', type: 'string' },
  { id: 'description', name: 'Description', type: 'string' },
  { id: 'status', name: 'Status', type: 'status' },
  { id: 'priority', name: 'Priority', type: 'priority' },
  { id: 'issuetype', name: 'Issue Type', type: 'issuetype' },
  { id: 'project', name: 'Project', type: 'project' },
  { id: 'created', name: 'Created', type: 'datetime' },
  { id: 'updated', name: 'Updated', type: 'datetime' },
  { id: 'resolutiondate', name: 'Resolved', type: 'datetime' },
  { id: 'resolution', name: 'Resolution', type: 'resolution' },
  { id: 'duedate', name: 'Due date', type: 'date' },
  { id: 'assignee', name: 'Assignee', type: 'user' },
  { id: 'labels', name: 'Labels', type: 'array', items: 'string' },
  { id: 'issuelinks', name: 'Linked Issues', type: 'array', items: 'issuelinks' },
  { id: 'parent', name: 'Parent', type: 'issuelink' },
  { id: 'subtasks', name: 'Sub-tasks', type: 'array', items: 'issuelinks' },
];

const CATEGORY = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
};

const PRIORITY_IDS: Record<string, string> = { Highest: '1', High: '2', Medium: '3', Low: '4', Lowest: '5' };

export class IssueRenderer {
  constructor(
    private readonly site: JiraSiteHistory,
    private readonly baseUrl: () => string,
    private readonly zone: string
  ) {}

  /** Jira's rendering of an instant: the account's zone, milliseconds, a colon-less offset. */
  time(ms: number): string {
    const offsetMinutes = zoneOffsetMinutes(this.zone, ms);
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const absolute = Math.abs(offsetMinutes);
    return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}${String(absolute % 60).padStart(2, '0')}`;
  }

  myself(email: string, zone: string | null, locale: SiteLocale): unknown {
    const user: Record<string, unknown> = {
      self: `${this.baseUrl()}/rest/api/3/user?accountId=5b10a2844c20165700ede21f`,
      accountId: '5b10a2844c20165700ede21f',
      accountType: 'atlassian',
      emailAddress: email,
      avatarUrls: avatars('collector'),
      displayName: 'Incident Lens collector',
      active: true,
      locale,
    };
    if (zone !== null) {
      user.timeZone = zone;
    }
    return user;
  }

  /** GET /field as a profile in `locale` sees it, without the fields the account may not see. */
  fields(locale: SiteLocale, hidden: ReadonlySet<string>, resolutionSla: boolean): unknown[] {
    const named = (id: string, english: string) => (locale === 'de_DE' ? (GERMAN_FIELD_NAMES[id] ?? english) : english);
    const system = SYSTEM_FIELDS.map((field) => ({
      id: field.id,
      key: field.id,
      name: named(field.id, field.name),
      custom: false,
      orderable: field.id !== 'created' && field.id !== 'updated',
      navigable: true,
      searchable: true,
      clauseNames: [field.id],
      schema: { type: field.type, system: field.id, ...(field.items ? { items: field.items } : {}) },
    }));
    const customFields = [...Object.values(CUSTOM_FIELDS), ...(resolutionSla ? [RESOLUTION_SLA_FIELD] : [])];
    const custom = customFields.map((field) => ({
      id: field.id,
      key: field.id,
      name: named(field.id, field.name),
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${field.schema.customId}]`, named(field.id, field.name)],
      schema: field.schema,
    }));
    return [...system, ...custom].filter((field) => !hidden.has(field.id));
  }

  status(status: SiteStatus): Record<string, unknown> {
    const category = CATEGORY[status.category];
    return {
      self: `${this.baseUrl()}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${this.baseUrl()}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: { self: `${this.baseUrl()}/rest/api/3/statuscategory/${category.id}`, ...category },
    };
  }

  user(user: SiteUser): Record<string, unknown> {
    return {
      self: `${this.baseUrl()}/rest/api/3/user?accountId=${user.accountId}`,
      accountId: user.accountId,
      emailAddress: user.emailAddress,
      avatarUrls: avatars(user.accountId),
      displayName: user.displayName,
      active: true,
      timeZone: 'UTC',
      accountType: 'atlassian',
    };
  }

  changelogEntry(entry: SiteHistory): Record<string, unknown> {
    const rendered: Record<string, unknown> = {
      id: entry.id,
      created: this.time(entry.at),
      items: entry.items.map((change) => ({ ...change })),
    };
    if (entry.author) {
      rendered.author = this.user(entry.author);
    }
    return rendered;
  }

  remoteLink(issue: SiteIssue, link: SiteIssue['remoteLinks'][number]): unknown {
    return { ...link, self: `${this.baseUrl()}/rest/api/3/issue/${issue.key}/remotelink/${link.id}` };
  }

  private issueType(issue: SiteIssue): Record<string, unknown> {
    return {
      self: `${this.baseUrl()}/rest/api/3/issuetype/${issue.issueType.id}`,
      id: issue.issueType.id,
      description: '',
      iconUrl: `${this.baseUrl()}/images/icons/issuetypes/task.svg`,
      name: issue.issueType.name,
      subtask: issue.issueType.subtask,
      avatarId: 10318,
      hierarchyLevel: issue.issueType.subtask ? -1 : 0,
    };
  }

  private priority(name: string): Record<string, unknown> {
    const id = PRIORITY_IDS[name] ?? '3';
    return {
      self: `${this.baseUrl()}/rest/api/3/priority/${id}`,
      iconUrl: `${this.baseUrl()}/images/icons/priorities/${name.toLowerCase()}.svg`,
      name,
      id,
    };
  }

  /** The short form Jira uses for the other end of a link, a parent or a sub-task. */
  private linked(issue: SiteIssue): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      summary: issue.summary,
      status: this.status(statusById(issue.statusId)),
      issuetype: this.issueType(issue),
    };
    if (issue.priority !== null) {
      fields.priority = this.priority(issue.priority);
    }
    return { id: issue.id, key: issue.key, self: `${this.baseUrl()}/rest/api/3/issue/${issue.id}`, fields };
  }

  private fieldValue(issue: SiteIssue, field: string): { present: boolean; value?: unknown } {
    const status = statusById(issue.statusId);
    switch (field) {
      case 'summary':
        return { present: true, value: issue.summary };
      case 'description':
        return { present: true, value: issue.description };
      case 'status':
        return { present: true, value: this.status(status) };
      case 'priority':
        return { present: true, value: issue.priority === null ? null : this.priority(issue.priority) };
      case 'issuetype':
        return { present: true, value: this.issueType(issue) };
      case 'project':
        return {
          present: true,
          value: {
            self: `${this.baseUrl()}/rest/api/3/project/${issue.project.id}`,
            id: issue.project.id,
            key: issue.project.key,
            name: issue.project.name,
            projectTypeKey: issue.project.key === 'INC' ? 'service_desk' : 'software',
            simplified: false,
          },
        };
      case 'created':
        return { present: true, value: this.time(issue.created) };
      case 'updated':
        return { present: true, value: this.time(issue.updated) };
      case 'resolutiondate':
        return { present: true, value: issue.resolutiondate === null ? null : this.time(issue.resolutiondate) };
      case 'resolution':
        return {
          present: true,
          value:
            issue.resolutiondate === null
              ? null
              : { self: `${this.baseUrl()}/rest/api/3/resolution/10000`, id: '10000', name: 'Done', description: '' },
        };
      case 'duedate':
        return { present: true, value: issue.duedate };
      case 'assignee':
        return { present: true, value: issue.assignee ? this.user(issue.assignee) : null };
      case 'labels':
        return { present: true, value: [...issue.labels] };
      case 'issuelinks':
        return {
          present: true,
          value: this.site.links
            .filter((link) => link.outwardKey === issue.key || link.inwardKey === issue.key)
            .map((link) => {
              const rendered: Record<string, unknown> = {
                id: link.id,
                self: `${this.baseUrl()}/rest/api/3/issueLink/${link.id}`,
                type: { ...link.type, self: `${this.baseUrl()}/rest/api/3/issueLinkType/${link.type.id}` },
              };
              // Each side sees the other: the outward issue of its link, or the inward one.
              if (link.outwardKey === issue.key) {
                rendered.outwardIssue = this.linked(this.site.issue(link.inwardKey));
              } else {
                rendered.inwardIssue = this.linked(this.site.issue(link.outwardKey));
              }
              return rendered;
            }),
        };
      case 'parent':
        // Jira leaves `parent` out of an issue that has none.
        return issue.parentKey === null
          ? { present: false }
          : { present: true, value: this.linked(this.site.issue(issue.parentKey)) };
      case 'subtasks':
        return {
          present: true,
          value: [...this.site.issues.values()]
            .filter((child) => child.parentKey === issue.key)
            .map((child) => this.linked(child)),
        };
      default:
        if (field.startsWith('customfield_')) {
          return { present: true, value: issue.custom[field] ?? null };
        }
        return { present: false };
    }
  }

  issue(issue: SiteIssue, requested: string[], changelogLimit: number | null): Record<string, unknown> {
    const wanted = new Set<string>();
    const excluded = new Set<string>();
    for (const raw of requested) {
      const field = raw.trim();
      if (field === '*all' || field === '*navigable') {
        for (const system of SYSTEM_FIELDS) {
          wanted.add(system.id);
        }
        for (const custom of Object.values(CUSTOM_FIELDS)) {
          wanted.add(custom.id);
        }
      } else if (field.startsWith('-')) {
        excluded.add(field.slice(1));
      } else if (field !== '') {
        wanted.add(field);
      }
    }
    for (const field of excluded) {
      wanted.delete(field);
    }
    const onlyId = [...wanted].every((field) => field === 'id');
    if (onlyId && changelogLimit === null) {
      return { id: issue.id };
    }
    const fields: Record<string, unknown> = {};
    for (const field of wanted) {
      if (field === 'id' || field === 'key') {
        continue;
      }
      const value = this.fieldValue(issue, field);
      if (value.present) {
        fields[field] = value.value;
      }
    }
    const rendered: Record<string, unknown> = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${this.baseUrl()}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields,
    };
    if (changelogLimit !== null) {
      const histories = issue.histories.slice(0, changelogLimit);
      rendered.changelog = {
        startAt: 0,
        maxResults: histories.length,
        total: issue.histories.length,
        histories: histories.map((entry) => this.changelogEntry(entry)),
      };
    }
    return rendered;
  }
}

function avatars(seed: string): Record<string, string> {
  const base = `https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/${encodeURIComponent(seed.slice(0, 2).toUpperCase())}-1.png`;
  return {
    '48x48': `${base}?size=48`,
    '24x24': `${base}?size=24`,
    '16x16': `${base}?size=16`,
    '32x32': `${base}?size=32`,
  };
}
