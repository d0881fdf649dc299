import { describe, expect, it } from 'vitest';
import type { AdfNode, JiraHistory, JiraIssue } from './api-types.ts';
import { boundedJql, formatJqlDate, jiraDialect } from './client.ts';
import {
  adfText,
  fieldText,
  linkedIssueKeys,
  mapJiraActionItem,
  mapJiraIncident,
  mapJiraPostmortem,
  pagerDutyIdsInText,
  pagerDutyReferences,
  parseJiraInstant,
  rootCauseKey,
  searchFields,
  slaFirstResponse,
  type JiraMappingRules,
} from './mapper.ts';

const SITE = 'https://acme.atlassian.net';

/** Status ids as a Jira site numbers them; categories as GET /rest/api/3/status reports. */
const STATUS = {
  open: { id: '1', name: 'Open', category: 'new' },
  todo: { id: '10000', name: 'To Do', category: 'new' },
  progress: { id: '3', name: 'In Progress', category: 'indeterminate' },
  review: { id: '10001', name: 'In Review', category: 'indeterminate' },
  done: { id: '10002', name: 'Done', category: 'done' },
  closed: { id: '6', name: 'Closed', category: 'done' },
  reopened: { id: '4', name: 'Reopened', category: 'new' },
} as const;
type StatusName = keyof typeof STATUS;

const RULES: JiraMappingRules = {
  siteUrl: SITE,
  newStatuses: ['Open', 'New', 'To Do'],
  fields: { severity: 'priority', rootCause: null, pagerdutyIncident: null },
  severity: { map: {}, fromUrgency: {} },
  statusCategories: new Map(Object.values(STATUS).map((status) => [status.id, status.category])),
  firstResponseSlaField: null,
};

function status(name: StatusName) {
  const entry = STATUS[name];
  return {
    self: `${SITE}/rest/api/3/status/${entry.id}`,
    id: entry.id,
    name: entry.name,
    statusCategory: { id: 2, key: entry.category, colorName: 'blue-gray', name: entry.category },
  };
}

let historyId = 10_000;
function transition(at: string, from: StatusName, to: StatusName): JiraHistory {
  historyId += 1;
  return {
    id: String(historyId),
    author: { accountId: '5b10a2844c20165700ede21g', displayName: 'Mia Krystof', active: true },
    created: at,
    items: [
      {
        field: 'status',
        fieldtype: 'jira',
        fieldId: 'status',
        from: STATUS[from].id,
        fromString: STATUS[from].name,
        to: STATUS[to].id,
        toString: STATUS[to].name,
      },
    ],
  };
}

function labelEdit(at: string): JiraHistory {
  historyId += 1;
  return {
    id: String(historyId),
    created: at,
    items: [{ field: 'labels', fieldtype: 'jira', fieldId: 'labels', fromString: '', toString: 'x' }],
  };
}

function paragraph(...content: AdfNode[]): AdfNode {
  return { type: 'paragraph', content };
}

/** An issue as POST /rest/api/3/search/jql returns it with fields and expand=changelog. */
function issue(
  key: string,
  fields: Partial<NonNullable<JiraIssue['fields']>> & { statusName?: StatusName },
  histories: JiraHistory[] = []
): JiraIssue {
  const { statusName = 'open', ...rest } = fields;
  return {
    expand: 'operations,versionedRepresentations,editmeta,changelog,renderedFields',
    id: String(10_000 + Number(key.split('-')[1])),
    self: `${SITE}/rest/api/3/issue/${key}`,
    key,
    fields: {
      summary: `Summary of ${key}`,
      status: status(statusName),
      created: '2026-03-02T10:00:00.000+0000',
      updated: '2026-03-05T10:00:00.000+0000',
      labels: [],
      issuelinks: [],
      subtasks: [],
      resolutiondate: null,
      duedate: null,
      assignee: null,
      priority: { id: '3', name: 'Medium' },
      description: null,
      ...rest,
    },
    changelog: { startAt: 0, maxResults: histories.length, total: histories.length, histories },
  };
}

describe('Jira instants', () => {
  it.each([
    ['2026-03-02T10:00:00.000+0000', '2026-03-02T10:00:00.000Z'],
    ['2026-03-02T11:30:00.000+0130', '2026-03-02T10:00:00.000Z'],
    ['2026-03-02T05:00:00.000-0500', '2026-03-02T10:00:00.000Z'],
    ['2026-03-02T10:00:00Z', '2026-03-02T10:00:00.000Z'],
    ['2026-03-02T10:00:00+01:00', '2026-03-02T09:00:00.000Z'],
    ['not a date', undefined],
    ['', undefined],
    [null, undefined],
  ])('%s -> %s', (text, expected) => {
    expect(parseJiraInstant(text)).toBe(expected);
  });
});

describe('field values', () => {
  it.each<[unknown, string | null]>([
    ['  Sev 1 ', 'Sev 1'],
    [{ self: 'x', value: 'SEV-2', id: '10021' }, 'SEV-2'],
    [{ name: 'High' }, 'High'],
    [[{ value: '' }, { value: 'Database' }], 'Database'],
    [{ type: 'doc', version: 1, content: [paragraph({ type: 'text', text: 'Connection pool' })] }, 'Connection pool'],
    [3, '3'],
    [null, null],
    [{}, null],
  ])('%j reads as %j', (value, expected) => {
    expect(fieldText(value)).toBe(expected);
  });
});

describe('ADF text', () => {
  it('walks text nodes, link marks and cards in document order', () => {
    const doc: AdfNode = {
      type: 'doc',
      version: 1,
      content: [
        paragraph(
          { type: 'text', text: 'Paged by ' },
          {
            type: 'text',
            text: 'this incident',
            marks: [{ type: 'link', attrs: { href: 'https://acme.pagerduty.com/incidents/Q1ABCDE' } }],
          }
        ),
        {
          type: 'bulletList',
          content: [
            { type: 'listItem', content: [paragraph({ type: 'inlineCard', attrs: { url: 'https://x.test/a' } })] },
          ],
        },
        { type: 'blockCard', attrs: { url: 'https://x.test/b' } },
      ],
    };
    expect(adfText(doc)).toEqual([
      'Paged by ',
      'this incident',
      'https://acme.pagerduty.com/incidents/Q1ABCDE',
      'https://x.test/a',
      'https://x.test/b',
    ]);
  });

  it('treats a plain string as text and ignores non-documents', () => {
    expect(adfText('PD Q1ABCDE')).toEqual(['PD Q1ABCDE']);
    expect(adfText(null)).toEqual([]);
    expect(adfText(42)).toEqual([]);
  });
});

describe('PagerDuty references', () => {
  it.each<[string, string[]]>([
    ['https://acme.pagerduty.com/incidents/Q1ABCDE', ['Q1ABCDE']],
    ['see https://acme.eu.pagerduty.com/incidents/q2bcdef/timeline', ['Q2BCDEF']],
    ['[PD Q1ABCDE] Checkout latency', ['Q1ABCDE']],
    ['PagerDuty incident: PT4KHLK', ['PT4KHLK']],
    ['PD #Q9ZZZZZ', ['Q9ZZZZZ']],
    ['PagerDuty incident resolved quickly', []],
    ['PD incident 12345', []],
    ['Q1ABCDE without context', []],
    ['http://acme.pagerduty.com.evil.test/incidents/Q1ABCDE', []],
  ])('%s', (text, ids) => {
    expect(pagerDutyIdsInText(text)).toEqual(ids);
  });

  const doc: AdfNode = {
    type: 'doc',
    version: 1,
    content: [
      paragraph({
        type: 'text',
        text: 'PagerDuty',
        marks: [{ type: 'link', attrs: { href: 'https://acme.pagerduty.com/incidents/QDESC01' } }],
      }),
    ],
  };

  it.each<[string, JiraIssue, Parameters<typeof pagerDutyReferences>[0]['remoteLinks'], string | null, string[]]>([
    ['summary', issue('INC-1', { summary: '[PD QSUMM01] Payments down' }), undefined, null, ['QSUMM01']],
    ['ADF description', issue('INC-2', { description: doc }), undefined, null, ['QDESC01']],
    ['label', issue('INC-3', { labels: ['incident', 'pagerduty-qlabel1'] }), undefined, null, ['QLABEL1']],
    [
      'remote link',
      issue('INC-4', {}),
      [
        {
          id: 10000,
          self: `${SITE}/rest/api/3/issue/INC-4/remotelink/10000`,
          globalId: 'pagerduty-incident-QREMOT1',
          application: { name: 'PagerDuty', type: 'com.pagerduty' },
          object: { url: 'https://acme.pagerduty.com/incidents/QREMOT1', title: 'PagerDuty incident #812' },
        },
      ],
      null,
      ['QREMOT1'],
    ],
    [
      'configured field, id',
      issue('INC-5', { customfield_10060: 'qfield01' }),
      undefined,
      'customfield_10060',
      ['QFIELD01'],
    ],
    [
      'configured field, URL',
      issue('INC-6', { customfield_10060: 'https://acme.pagerduty.com/incidents/QFIELD02' }),
      undefined,
      'customfield_10060',
      ['QFIELD02'],
    ],
    ['configured field not configured', issue('INC-7', { customfield_10060: 'QFIELD03' }), undefined, null, []],
    [
      'several places, one id',
      issue('INC-8', { summary: 'PD QSAME01', labels: ['pagerduty-QSAME01'] }),
      undefined,
      null,
      ['QSAME01'],
    ],
  ])('%s', (_name, jiraIssue, remoteLinks, field, ids) => {
    expect(pagerDutyReferences({ issue: jiraIssue, remoteLinks }, field)).toEqual(ids);
  });
});

describe('root cause', () => {
  it.each<[string, Partial<NonNullable<JiraIssue['fields']>>, string | null, string | null]>([
    // As written: lens.root_cause_slug makes the key (tests/metrics-sql.test.ts).
    ['label', { labels: ['postmortem', 'root-cause:Disk_Full'] }, null, 'Disk_Full'],
    ['label prefix in any case', { labels: ['Root-Cause:dns'] }, null, 'dns'],
    [
      'configured select field wins',
      { labels: ['root-cause:dns'], customfield_10050: { value: ' Bad deploy ' } },
      'customfield_10050',
      'Bad deploy',
    ],
    [
      'empty field falls back to the label',
      { labels: ['root-cause:dns'], customfield_10050: null },
      'customfield_10050',
      'dns',
    ],
    [
      'blank field falls back to the label',
      { labels: ['root-cause:dns'], customfield_10050: '  ' },
      'customfield_10050',
      'dns',
    ],
    ['none', { labels: ['postmortem'] }, null, null],
  ])('%s', (_name, fields, field, key) => {
    expect(rootCauseKey({ issue: issue('PM-1', fields) }, field)).toBe(key);
  });
});

describe('linked issues', () => {
  it('collects both link directions, the parent and the sub-tasks, without itself', () => {
    const linked = issue('PM-7', {
      issuelinks: [
        {
          id: '1',
          type: { name: 'Relates', inward: 'relates to', outward: 'relates to' },
          outwardIssue: { id: '1', key: 'INC-3' },
        },
        {
          id: '2',
          type: { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' },
          inwardIssue: { id: '2', key: 'OPS-9' },
        },
        { id: '3', type: { name: 'Relates' }, outwardIssue: { id: '3', key: 'PM-7' } },
      ],
      parent: { id: '4', key: 'INC-4' },
      subtasks: [
        { id: '5', key: 'OPS-10' },
        { id: '6', key: 'INC-3' },
      ],
    });
    expect(linkedIssueKeys(linked)).toEqual(['INC-3', 'OPS-9', 'INC-4', 'OPS-10']);
  });
});

describe('Jira incidents', () => {
  it.each<
    [string, JiraIssue, Partial<JiraMappingRules>, { severity: string; ack: string | null; resolved: string | null }]
  >([
    [
      'first transition out of a new status is the first response; resolutiondate resolves',
      issue(
        'INC-10',
        { priority: { name: 'Highest' }, statusName: 'done', resolutiondate: '2026-03-02T12:00:00.000+0000' },
        [
          transition('2026-03-02T10:20:00.000+0000', 'open', 'progress'),
          transition('2026-03-02T12:00:00.000+0000', 'progress', 'done'),
        ]
      ),
      {},
      { severity: 'SEV1', ack: '2026-03-02T10:20:00.000Z', resolved: '2026-03-02T12:00:00.000Z' },
    ],
    [
      'moves between new statuses are not a response; histories in any order',
      issue('INC-11', { priority: { name: 'High' }, statusName: 'progress' }, [
        transition('2026-03-02T10:30:00.000+0000', 'todo', 'progress'),
        transition('2026-03-02T10:05:00.000+0000', 'open', 'todo'),
      ]),
      {},
      { severity: 'SEV2', ack: '2026-03-02T10:30:00.000Z', resolved: null },
    ],
    [
      'new statuses match by name in any case',
      issue('INC-12', { priority: { name: 'P3' }, statusName: 'progress' }, [
        transition('2026-03-02T10:07:00.000+0000', 'open', 'progress'),
      ]),
      { newStatuses: ['OPEN'] },
      { severity: 'SEV3', ack: '2026-03-02T10:07:00.000Z', resolved: null },
    ],
    [
      'never left a new status: not acknowledged',
      issue('INC-13', { priority: { name: 'Low' }, statusName: 'open' }, [labelEdit('2026-03-02T10:01:00.000+0000')]),
      {},
      { severity: 'SEV4', ack: null, resolved: null },
    ],
    [
      'the SLA field, when it has a completed cycle, gives the first response',
      issue(
        'INC-14',
        {
          priority: { name: 'Sev 2' },
          statusName: 'progress',
          customfield_10020: {
            id: '1',
            name: 'Time to first response',
            _links: { self: `${SITE}/rest/servicedeskapi/request/10014/sla/1` },
            completedCycles: [
              {
                startTime: {
                  iso8601: '2026-03-02T10:00:00+0000',
                  jira: '2026-03-02T10:00:00.000+0000',
                  friendly: 'Today 10:00',
                  epochMillis: 1772445600000,
                },
                stopTime: {
                  iso8601: '2026-03-02T10:12:00+0000',
                  jira: '2026-03-02T10:12:00.000+0000',
                  friendly: 'Today 10:12',
                  epochMillis: 1772446320000,
                },
                breached: false,
                goalDuration: { millis: 1800000, friendly: '30m' },
                elapsedTime: { millis: 720000, friendly: '12m' },
                remainingTime: { millis: 1080000, friendly: '18m' },
              },
            ],
          },
        },
        [transition('2026-03-02T10:40:00.000+0000', 'open', 'progress')]
      ),
      { firstResponseSlaField: 'customfield_10020' },
      { severity: 'SEV2', ack: '2026-03-02T10:12:00.000Z', resolved: null },
    ],
    [
      'an SLA with only an ongoing cycle leaves the changelog to decide',
      issue(
        'INC-15',
        {
          priority: { name: 'Medium' },
          statusName: 'progress',
          customfield_10020: {
            name: 'Time to first response',
            completedCycles: [],
            ongoingCycle: {
              startTime: { iso8601: '2026-03-02T10:00:00+0000', epochMillis: 1772445600000 },
              breachTime: { iso8601: '2026-03-02T10:30:00+0000', epochMillis: 1772447400000 },
              breached: true,
              paused: false,
              withinCalendarHours: true,
              goalDuration: { millis: 1800000, friendly: '30m' },
              elapsedTime: { millis: 3000000, friendly: '50m' },
              remainingTime: { millis: -1200000, friendly: '-20m' },
            },
          },
        },
        [transition('2026-03-02T10:50:00.000+0000', 'open', 'progress')]
      ),
      { firstResponseSlaField: 'customfield_10020' },
      { severity: 'SEV3', ack: '2026-03-02T10:50:00.000Z', resolved: null },
    ],
    [
      'severity from a configured select field; an unknown name is UNKNOWN',
      issue('INC-16', { customfield_10042: { value: 'Minor' }, priority: { name: 'Highest' } }),
      { fields: { severity: 'customfield_10042', rootCause: null, pagerdutyIncident: null } },
      { severity: 'UNKNOWN', ack: null, resolved: null },
    ],
    [
      'reopened: resolutiondate is the last one Jira kept',
      issue(
        'INC-17',
        { priority: { name: 'High' }, statusName: 'done', resolutiondate: '2026-03-03T09:00:00.000+0000' },
        [
          transition('2026-03-02T10:10:00.000+0000', 'open', 'progress'),
          transition('2026-03-02T11:00:00.000+0000', 'progress', 'done'),
          transition('2026-03-02T15:00:00.000+0000', 'done', 'reopened'),
          transition('2026-03-03T09:00:00.000+0000', 'reopened', 'done'),
        ]
      ),
      {},
      { severity: 'SEV2', ack: '2026-03-02T10:10:00.000Z', resolved: '2026-03-03T09:00:00.000Z' },
    ],
  ])('%s', (_name, jiraIssue, rules, expected) => {
    const result = mapJiraIncident({ issue: jiraIssue }, { ...RULES, ...rules });
    if (!result.ok) {
      throw new Error(result.reason);
    }
    expect(result.value.row.severity).toBe(expected.severity);
    expect(result.value.row.acknowledgedAt).toBe(expected.ack);
    expect(result.value.row.resolvedAt).toBe(expected.resolved);
    expect(result.value.row.externalId).toBe(jiraIssue.key);
    expect(result.value.row.htmlUrl).toBe(`${SITE}/browse/${jiraIssue.key}`);
    expect(result.value.events.every((event) => event.type === 'status_change')).toBe(true);
  });

  it('records status transitions as events', () => {
    const result = mapJiraIncident(
      {
        issue: issue('INC-20', { statusName: 'progress' }, [
          transition('2026-03-02T10:10:00.000+0000', 'open', 'progress'),
        ]),
      },
      RULES
    );
    if (!result.ok) {
      throw new Error(result.reason);
    }
    expect(result.value.events).toEqual([
      expect.objectContaining({
        rawType: 'status',
        occurredAt: '2026-03-02T10:10:00.000Z',
        agent: 'Mia Krystof',
        summary: 'Open → In Progress',
      }),
    ]);
  });

  it.each<[string, JiraIssue, string]>([
    ['no key', { id: '1', fields: {} }, 'issue has no key'],
    ['fields not requested', { id: '10001', key: 'INC-1' }, 'issue has no fields'],
    ['no created', issue('INC-1', { created: undefined }), 'issue created is missing'],
    [
      'no status category',
      issue('INC-1', { status: { id: '1', name: 'Open' } }),
      "status 'Open' has no status category",
    ],
    [
      'resolved before created',
      issue('INC-1', { resolutiondate: '2026-03-01T00:00:00.000+0000' }),
      'is before its creation',
    ],
    [
      'truncated changelog',
      { ...issue('INC-1', {}), changelog: { startAt: 0, maxResults: 40, total: 45, histories: [] } },
      'changelog is incomplete (0 of 45 histories)',
    ],
  ])('quarantines an issue with %s', (_name, jiraIssue, reason) => {
    const result = mapJiraIncident({ issue: jiraIssue }, RULES);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(reason);
    }
  });
});

describe('post-mortems', () => {
  it.each<[string, JiraIssue, string | null]>([
    [
      'completed when it entered Done',
      issue('PM-1', { statusName: 'done', resolutiondate: '2026-03-04T09:00:00.000+0000' }, [
        transition('2026-03-03T09:00:00.000+0000', 'todo', 'progress'),
        transition('2026-03-04T08:00:00.000+0000', 'progress', 'done'),
      ]),
      '2026-03-04T08:00:00.000Z',
    ],
    [
      'a later move between Done statuses is not a new completion',
      issue('PM-2', { statusName: 'closed' }, [
        transition('2026-03-04T08:00:00.000+0000', 'review', 'done'),
        transition('2026-03-06T08:00:00.000+0000', 'done', 'closed'),
      ]),
      '2026-03-04T08:00:00.000Z',
    ],
    [
      'done without a transition: resolutiondate',
      issue('PM-3', { statusName: 'done', resolutiondate: '2026-03-05T00:00:00.000+0000' }),
      '2026-03-05T00:00:00.000Z',
    ],
    [
      'in review: not completed',
      issue('PM-4', { statusName: 'review' }, [transition('2026-03-04T08:00:00.000+0000', 'todo', 'review')]),
      null,
    ],
  ])('%s', (_name, jiraIssue, completedAt) => {
    const result = mapJiraPostmortem({ issue: jiraIssue }, RULES);
    if (!result.ok) {
      throw new Error(result.reason);
    }
    expect(result.value.row.completedAt).toBe(completedAt);
    expect(result.value.facts.kind).toBe('postmortem');
  });

  it('carries its links, PagerDuty references and root cause as facts', () => {
    const result = mapJiraPostmortem(
      {
        issue: issue('PM-5', {
          summary: 'Post-mortem: PD QPM0001 checkout errors',
          labels: ['postmortem', 'root-cause:Bad_Deploy'],
          issuelinks: [{ id: '9', type: { name: 'Relates' }, inwardIssue: { id: '1', key: 'INC-1' } }],
        }),
      },
      RULES
    );
    if (!result.ok) {
      throw new Error(result.reason);
    }
    expect(result.value.facts).toMatchObject({
      issueKey: 'PM-5',
      linkedKeys: ['INC-1'],
      pagerdutyIncidentIds: ['QPM0001'],
      rootCauseKey: 'Bad_Deploy',
    });
    expect(result.value.row.rootCauseKey).toBe('Bad_Deploy');
  });
});

describe('action items', () => {
  it.each<
    [string, JiraIssue, { completedAt: string | null; category: string; owner: string | null; due: string | null }]
  >([
    [
      'done: completion from the changelog, not the resolution date',
      issue(
        'AI-1',
        {
          statusName: 'done',
          resolutiondate: '2026-03-09T17:00:00.000+0000',
          duedate: '2026-03-10',
          assignee: { accountId: 'a1', displayName: 'Ravi Patel', active: true },
        },
        [
          transition('2026-03-06T09:00:00.000+0000', 'todo', 'progress'),
          transition('2026-03-09T16:30:00.000+0000', 'progress', 'done'),
        ]
      ),
      { completedAt: '2026-03-09T16:30:00.000Z', category: 'done', owner: 'Ravi Patel', due: '2026-03-10' },
    ],
    [
      'reopened after done: open again',
      issue('AI-2', { statusName: 'reopened', duedate: '2026-03-10' }, [
        transition('2026-03-08T09:00:00.000+0000', 'todo', 'done'),
        transition('2026-03-09T09:00:00.000+0000', 'done', 'reopened'),
      ]),
      { completedAt: null, category: 'new', owner: null, due: '2026-03-10' },
    ],
    [
      'done again after a reopen: the last completion',
      issue('AI-3', { statusName: 'done' }, [
        transition('2026-03-08T09:00:00.000+0000', 'todo', 'done'),
        transition('2026-03-09T09:00:00.000+0000', 'done', 'reopened'),
        transition('2026-03-12T09:00:00.000+0000', 'reopened', 'done'),
      ]),
      { completedAt: '2026-03-12T09:00:00.000Z', category: 'done', owner: null, due: null },
    ],
    [
      'done with no status change in the changelog: resolutiondate',
      issue('AI-4', { statusName: 'done', resolutiondate: '2026-03-07T10:00:00.000+0000' }, [
        labelEdit('2026-03-05T00:00:00.000+0000'),
      ]),
      { completedAt: '2026-03-07T10:00:00.000Z', category: 'done', owner: null, due: null },
    ],
    [
      'status deleted from every workflow: the current one is still known',
      issue('AI-5', { status: { id: '777', name: 'Shipped', statusCategory: { key: 'done' } } }, [
        {
          id: '1',
          created: '2026-03-08T09:00:00.000+0000',
          items: [
            {
              fieldId: 'status',
              field: 'status',
              from: '3',
              fromString: 'In Progress',
              to: '777',
              toString: 'Shipped',
            },
          ],
        },
      ]),
      { completedAt: '2026-03-08T09:00:00.000Z', category: 'done', owner: null, due: null },
    ],
  ])('%s', (_name, jiraIssue, expected) => {
    const result = mapJiraActionItem({ issue: jiraIssue }, RULES);
    if (!result.ok) {
      throw new Error(result.reason);
    }
    expect(result.value.row).toMatchObject({
      completedAt: expected.completedAt,
      statusCategory: expected.category,
      owner: expected.owner,
      dueDate: expected.due,
    });
  });

  it('quarantines a due date that is not a calendar day', () => {
    const result = mapJiraActionItem({ issue: issue('AI-9', { duedate: '2026-02-30' }) }, RULES);
    expect(result).toMatchObject({ ok: false, externalId: 'AI-9' });
  });
});

describe('SLA first response', () => {
  it.each<[string, unknown, string | undefined]>([
    [
      'the earliest completed cycle',
      {
        completedCycles: [
          { startTime: { epochMillis: 2000 }, stopTime: { epochMillis: 5000 } },
          { startTime: { epochMillis: 1000 }, stopTime: { iso8601: '2026-03-02T10:12:00+0000' } },
        ],
      },
      '2026-03-02T10:12:00.000Z',
    ],
    ['stop time by epoch', { completedCycles: [{ stopTime: { epochMillis: 0 } }] }, '1970-01-01T00:00:00.000Z'],
    ['no completed cycle', { completedCycles: [], ongoingCycle: { breached: false } }, undefined],
    ['not an SLA value', 'nope', undefined],
  ])('%s', (_name, value, expected) => {
    expect(slaFirstResponse(value)).toBe(expected);
  });
});

describe('search', () => {
  it('asks for every field the mapping reads, once', () => {
    expect(
      searchFields({
        fields: { severity: 'customfield_10042', rootCause: 'customfield_10050', pagerdutyIncident: null },
        firstResponseSlaField: 'customfield_10020',
      })
    ).toEqual([
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
      'customfield_10042',
      'customfield_10050',
      'customfield_10020',
    ]);
  });

  it.each<[string, Date, string | undefined, string]>([
    [
      'UTC account',
      new Date('2026-03-02T10:07:59Z'),
      'UTC',
      '(labels = incident) AND updated >= "2026-03-02 10:07" ORDER BY updated ASC, key ASC',
    ],
    [
      'account in Sydney (UTC+11 in March)',
      new Date('2026-03-02T10:07:00Z'),
      'Australia/Sydney',
      '(labels = incident) AND updated >= "2026-03-02 21:07" ORDER BY updated ASC, key ASC',
    ],
    [
      'account in New York (UTC-5)',
      new Date('2026-03-02T02:30:00Z'),
      'America/New_York',
      '(labels = incident) AND updated >= "2026-03-01 21:30" ORDER BY updated ASC, key ASC',
    ],
    [
      'zone hidden by privacy settings: 12 h earlier in UTC',
      new Date('2026-03-02T10:07:00Z'),
      undefined,
      '(labels = incident) AND updated >= "2026-03-01 22:07" ORDER BY updated ASC, key ASC',
    ],
  ])('bounds the JQL for a %s', (_name, since, zone, jql) => {
    expect(boundedJql('labels = incident', since, zone)).toBe(jql);
  });

  it('wraps the configured JQL without editing it', () => {
    expect(boundedJql('labels = incident OR issuetype = Incident', new Date('2026-03-02T00:00:00Z'), 'UTC')).toBe(
      '(labels = incident OR issuetype = Incident) AND updated >= "2026-03-02 00:00" ORDER BY updated ASC, key ASC'
    );
  });

  it('refuses a configured JQL that orders its results', () => {
    expect(() => boundedJql('project = INC ORDER BY created', new Date(), 'UTC')).toThrow(/contains ORDER BY/);
    expect(boundedJql('summary ~ "order by"', new Date('2026-03-02T00:00:00Z'), 'UTC')).toContain(
      'summary ~ "order by"'
    );
    expect(() => boundedJql('  ', new Date(), 'UTC')).toThrow(/empty/);
  });

  it('rounds down to the minute across a DST change', () => {
    expect(formatJqlDate(new Date('2026-10-25T00:59:59Z'), 'Europe/Berlin')).toBe('2026-10-25 02:59');
    expect(formatJqlDate(new Date('2026-10-25T01:00:00Z'), 'Europe/Berlin')).toBe('2026-10-25 02:00');
  });
});

describe('Jira error bodies', () => {
  it.each<[number, string, string]>([
    [
      400,
      '{"errorMessages":["Unbounded JQL queries are not allowed here."],"errors":{}}',
      'Unbounded JQL queries are not allowed here.',
    ],
    [400, '{"errorMessages":[],"errors":{"jql":"bad"}}', 'jql: bad'],
    [502, '<html>Bad gateway</html>', '<html>Bad gateway</html>'],
    [503, '', 'HTTP 503'],
  ])('HTTP %i %s', (statusCode, body, description) => {
    expect(jiraDialect.describeError(statusCode, body)).toBe(description);
  });

  it('waits as Retry-After or X-RateLimit-Reset says', () => {
    expect(jiraDialect.retryAfterSeconds(429, new Headers({ 'Retry-After': '7' }))).toBe(7);
    const reset = new Date(Date.now() + 30_000).toISOString();
    const wait = jiraDialect.retryAfterSeconds(429, new Headers({ 'X-RateLimit-Reset': reset }));
    expect(wait).toBeGreaterThan(28);
    expect(wait).toBeLessThanOrEqual(30);
    expect(jiraDialect.retryAfterSeconds(429, new Headers())).toBeUndefined();
  });
});
