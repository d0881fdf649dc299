import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeJira,
  generateJiraHistory,
  generatePagerDutyHistory,
  type JiraSiteHistory,
  startFakeJira,
} from '@incident-lens/simulators';
import { searchFields } from '../collector/src/sources/jira/mapper.ts';

/**
 * The fake Jira's answers (and the client's requests) checked against the
 * published OpenAPI description. Gaps between the description and what Jira
 * sends are applied here, each with its reason:
 *
 * 1. An issue's `issuelinks` entries are IssueLink objects holding one end
 *    only (inwardIssue OR outwardIssue: the other end is the issue itself),
 *    but IssueLink, written for the create-link request, requires both.
 *    Each entry is validated with that `required` dropped.
 * 2. GET /issue/{key}/remotelink without globalId returns every remote link
 *    as an array; the description gives the single-link schema. Each element
 *    is validated against RemoteIssueLink.
 * 3. Error answers (400, 401, 404, 410, 429) carry no schema in the
 *    description; Jira sends its ErrorCollection, which they are validated
 *    against.
 * 4. ChangeDetails declares `from`, `fromString`, `to` and `toString` as
 *    strings, but Jira sends null for a side that has no value, and the
 *    description's own changelog example does (`"from": null`). They are
 *    allowed to be null.
 * 5. IssueBean.fields is free-form in the description; the system fields the
 *    collector reads are validated against their own schemas (StatusDetails,
 *    Priority, IssueTypeDetails, UserDetails, LinkedIssue).
 */

const spec = JSON.parse(
  readFileSync(new URL('../simulators/specs/jira-cloud-platform-v3.trimmed.json', import.meta.url), 'utf8')
) as {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
  components: { schemas: Record<string, Record<string, unknown>> };
};

// IssueLink as an issue's field shows it (gap 1).
spec.components.schemas.IssueLinkAsField = { ...spec.components.schemas.IssueLink, required: ['type'] };
// Null sides of a change (gap 4).
const changeDetails = spec.components.schemas.ChangeDetails!.properties as Record<string, Record<string, unknown>>;
for (const side of ['from', 'fromString', 'to', 'toString']) {
  changeDetails[side] = { ...changeDetails[side], nullable: true };
}

const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (instance: Ajv) => Ajv;
addFormats(ajv);
ajv.addSchema(spec, 'jira');

const pointer = (...segments: string[]) =>
  segments.map((segment) => segment.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function componentValidator(name: string): ValidateFunction {
  return ajv.compile({ $ref: `jira#/components/schemas/${name}` });
}

/** The response schema the description gives an operation, by its JSON pointer. */
function responseValidator(path: string, method: string, status: string): ValidateFunction {
  const response = spec.paths[path]?.[method]?.responses[status];
  if (!response?.content?.['application/json']?.schema) {
    throw new Error(`the description has no JSON schema for ${method} ${path} ${status}`);
  }
  return ajv.compile({
    $ref: `jira#/${pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema')}`,
  });
}

function requestValidator(path: string, method: string): ValidateFunction {
  return ajv.compile({
    $ref: `jira#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}`,
  });
}

function expectValid(validate: ValidateFunction, payload: unknown): void {
  const valid = validate(payload);
  expect(valid ? [] : ajv.errorsText(validate.errors, { separator: '\n' }).split('\n').slice(0, 10)).toEqual([]);
}

const errorCollection = componentValidator('ErrorCollection');
const statusDetails = componentValidator('StatusDetails');
const priority = componentValidator('Priority');
const issueType = componentValidator('IssueTypeDetails');
const userDetails = componentValidator('UserDetails');
const linkedIssue = componentValidator('LinkedIssue');
const issueLinkAsField = componentValidator('IssueLinkAsField');
const remoteIssueLink = componentValidator('RemoteIssueLink');

const EMAIL = 'collector@acme.example';
const TOKEN = 'jira-token-0123456789';
const AUTH = {
  Authorization: `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`,
  Accept: 'application/json',
};
const FIELDS = searchFields({
  fields: { severity: 'customfield_10042', rootCause: 'customfield_10050', pagerdutyIncident: 'customfield_10060' },
  firstResponseSlaField: 'customfield_10020',
});

let history: JiraSiteHistory;
let server: FakeJira;

beforeAll(async () => {
  const pagerduty = generatePagerDutyHistory({
    seed: 5,
    start: new Date('2026-01-01T00:00:00Z'),
    end: new Date('2026-03-01T00:00:00Z'),
    incidents: 150,
  });
  history = generateJiraHistory({
    seed: 5,
    end: new Date('2026-03-01T00:00:00Z'),
    pagerduty: { incidents: pagerduty.expectedFacts(), subdomain: pagerduty.subdomain },
    customFields: true,
    longChangelogShare: 0.2,
  });
  server = await startFakeJira({
    history,
    email: EMAIL,
    apiToken: TOKEN,
    timeZone: 'Australia/Sydney',
    maxSearchPage: 25,
  });
});
afterAll(async () => {
  await server.stop();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const response = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Every page of a search, following nextPageToken until isLast. */
async function searchAll(jql: string): Promise<Array<Record<string, unknown>>> {
  const pages: Array<Record<string, unknown>> = [];
  let nextPageToken: string | undefined;
  do {
    const page = await call('POST', '/rest/api/3/search/jql', {
      jql,
      fields: FIELDS,
      expand: 'changelog',
      maxResults: 100,
      nextPageToken,
    });
    expect(page.status).toBe(200);
    pages.push(page.body);
    nextPageToken = page.body.nextPageToken as string | undefined;
  } while (nextPageToken !== undefined);
  return pages;
}

describe('fake Jira against the OpenAPI description', () => {
  it('search pages are SearchAndReconcileResults, and their issue fields match their schemas', async () => {
    const results = responseValidator('/rest/api/3/search/jql', 'post', '200');
    const pages = await searchAll('project in (INC, OPS) AND updated >= "2025-12-01 00:00"');
    expect(pages.length).toBeGreaterThan(3);
    let issues = 0;
    for (const page of pages) {
      expectValid(results, page);
      for (const issue of page.issues as Array<{
        fields: Record<string, unknown>;
        changelog: { total: number; histories: unknown[] };
      }>) {
        issues += 1;
        const { fields } = issue;
        expectValid(statusDetails, fields.status);
        expectValid(issueType, fields.issuetype);
        if (fields.priority !== null) {
          expectValid(priority, fields.priority);
        }
        if (fields.assignee !== null) {
          expectValid(userDetails, fields.assignee);
        }
        if (fields.parent !== undefined) {
          expectValid(linkedIssue, fields.parent);
        }
        for (const subtask of fields.subtasks as unknown[]) {
          expectValid(linkedIssue, subtask);
        }
        for (const link of fields.issuelinks as unknown[]) {
          expectValid(issueLinkAsField, link);
        }
        expect(fields.description === null || (fields.description as { type: string }).type === 'doc').toBe(true);
        expect(issue.changelog.histories.length).toBeLessThanOrEqual(40);
      }
    }
    expect(issues).toBe(history.issueCount);
    // Only the last page says so, and it has no token.
    expect(pages.map((page) => page.isLast)).toEqual([...pages.slice(1).map(() => false), true]);
  });

  it('the client-shaped search and bulk changelog requests fit their request schemas', async () => {
    const sentBefore = server.requests.length;
    const pages = await searchAll('labels = action-item AND updated >= "2025-12-01 00:00"');
    const truncated = pages
      .flatMap((page) => page.issues as Array<{ id: string; changelog: { total: number; histories: unknown[] } }>)
      .filter((issue) => issue.changelog.total > issue.changelog.histories.length);
    expect(truncated.length).toBeGreaterThan(0);
    const bulk = await call('POST', '/rest/api/3/changelog/bulkfetch', {
      issueIdsOrKeys: truncated.map((issue) => issue.id),
      fieldIds: ['status'],
      maxResults: 1000,
    });
    expect(bulk.status).toBe(200);
    expectValid(responseValidator('/rest/api/3/changelog/bulkfetch', 'post', '200'), bulk.body);
    const searchRequest = requestValidator('/rest/api/3/search/jql', 'post');
    const bulkRequest = requestValidator('/rest/api/3/changelog/bulkfetch', 'post');
    for (const request of server.requests.slice(sentBefore)) {
      expectValid(request.path === '/rest/api/3/search/jql' ? searchRequest : bulkRequest, request.body);
    }
  });

  it('GET search, changelog pages, remote links, myself, fields and statuses match their schemas', async () => {
    const get = await call(
      'GET',
      `/rest/api/3/search/jql?jql=${encodeURIComponent('labels = postmortem')}&fields=summary,status&maxResults=5`
    );
    expectValid(responseValidator('/rest/api/3/search/jql', 'get', '200'), get.body);

    const long =
      [...history.issues.values()].find((issue) => issue.histories.length > 100) ??
      [...history.issues.values()].find((issue) => issue.histories.length > 40)!;
    const changelog = responseValidator('/rest/api/3/issue/{issueIdOrKey}/changelog', 'get', '200');
    const first = await call('GET', `/rest/api/3/issue/${long.key}/changelog?maxResults=30`);
    expectValid(changelog, first.body);
    expect(first.body).toMatchObject({ startAt: 0, maxResults: 30, total: long.histories.length, isLast: false });
    const last = await call('GET', `/rest/api/3/issue/${long.key}/changelog?startAt=30&maxResults=100`);
    expectValid(changelog, last.body);
    expect(last.body.isLast).toBe(true);

    const linked = [...history.issues.values()].find((issue) => issue.remoteLinks.length > 0)!;
    const remote = await call('GET', `/rest/api/3/issue/${linked.key}/remotelink`);
    expect(Array.isArray(remote.body)).toBe(true);
    for (const link of remote.body as unknown as unknown[]) {
      expectValid(remoteIssueLink, link);
    }

    const myself = await call('GET', '/rest/api/3/myself');
    expectValid(responseValidator('/rest/api/3/myself', 'get', '200'), myself.body);
    expect(myself.body.timeZone).toBe('Australia/Sydney');
    expectValid(responseValidator('/rest/api/3/field', 'get', '200'), (await call('GET', '/rest/api/3/field')).body);
    expectValid(responseValidator('/rest/api/3/status', 'get', '200'), (await call('GET', '/rest/api/3/status')).body);
  });

  it('renders times in the account zone with a colon-less offset, as Jira does', async () => {
    const page = await call('POST', '/rest/api/3/search/jql', { jql: 'key = INC-1', fields: ['created', 'updated'] });
    const created = (page.body.issues as Array<{ fields: { created: string } }>)[0]!.fields.created;
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+1[01]00$/);
    expect(new Date(created.replace(/(\d\d)(\d\d)$/, '$1:$2')).getTime()).toBe(history.issue('INC-1').created);
  });
});

describe('fake Jira enforces what the real one does', () => {
  it.each<[string, 'GET' | 'POST', string, unknown, Record<string, string> | undefined, number, RegExp]>([
    [
      'wrong credentials',
      'GET',
      '/rest/api/3/myself',
      undefined,
      { Authorization: 'Basic bm9ib2R5Om5vcGU=' },
      401,
      /must be authenticated/,
    ],
    [
      'no credentials',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'labels = incident' },
      {},
      401,
      /must be authenticated/,
    ],
    [
      'an unbounded JQL',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'order by created DESC' },
      undefined,
      400,
      /Unbounded JQL/,
    ],
    ['an empty JQL', 'POST', '/rest/api/3/search/jql', { jql: '' }, undefined, 400, /Unbounded JQL/],
    [
      'an unknown field',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'team = sre' },
      undefined,
      400,
      /Field 'team' does not exist/,
    ],
    [
      'a bad date',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'updated >= "2026-13-01"' },
      undefined,
      400,
      /Date value '2026-13-01' for field 'updated' is invalid/,
    ],
    [
      'offset paging',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'labels = incident', startAt: 50 },
      undefined,
      400,
      /Unrecognized field "startAt"/,
    ],
    [
      'a foreign page token',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'labels = incident', nextPageToken: 'abc' },
      undefined,
      400,
      /token is invalid/,
    ],
    [
      'the removed GET search',
      'GET',
      '/rest/api/3/search?jql=labels%20%3D%20incident',
      undefined,
      undefined,
      410,
      /has been removed/,
    ],
    [
      'the removed POST search',
      'POST',
      '/rest/api/3/search',
      { jql: 'labels = incident', startAt: 0 },
      undefined,
      410,
      /has been removed/,
    ],
    ['an unknown issue', 'GET', '/rest/api/3/issue/NOPE-1/changelog', undefined, undefined, 404, /does not exist/],
  ])('refuses %s', async (_name, method, path, body, headers, status, message) => {
    const response = await call(method, path, body, headers ?? AUTH);
    expect(response.status).toBe(status);
    expectValid(errorCollection, response.body);
    expect((response.body.errorMessages as string[]).join(' ')).toMatch(message);
  });

  it('returns ids only when no fields are asked for', async () => {
    const response = await call('POST', '/rest/api/3/search/jql', { jql: 'labels = action-item', maxResults: 3 });
    expect(response.body.issues).toEqual([
      { id: expect.any(String) },
      { id: expect.any(String) },
      { id: expect.any(String) },
    ]);
  });

  it('pages an id-only search by up to 5,000 issues, where a search with fields stops at its cap', async () => {
    const ids = await call('POST', '/rest/api/3/search/jql', {
      jql: 'project in (INC, OPS)',
      fields: ['id'],
      maxResults: 5000,
    });
    expectValid(responseValidator('/rest/api/3/search/jql', 'post', '200'), ids.body);
    expect(ids.body.issues).toHaveLength(history.issueCount);
    expect(ids.body.isLast).toBe(true);
    const full = await call('POST', '/rest/api/3/search/jql', {
      jql: 'project in (INC, OPS)',
      fields: ['summary'],
      maxResults: 5000,
    });
    expect(full.body.issues).toHaveLength(25);
  });

  it('GET issue by id is an IssueBean; a moved issue keeps its id under a new key, a deleted one answers 404', async () => {
    const issueBean = responseValidator('/rest/api/3/issue/{issueIdOrKey}', 'get', '200');
    const site = generateJiraHistory({
      seed: 6,
      end: new Date('2026-03-01T00:00:00Z'),
      pagerduty: { incidents: [], subdomain: 'acme' },
    });
    const own = await startFakeJira({ history: site, email: EMAIL, apiToken: TOKEN });
    try {
      const [first, second] = [...site.issues.values()].filter(
        (issue) => issue.project.key === 'OPS' && issue.parentKey === null
      );
      const get = async (idOrKey: string) => {
        const response = await fetch(`${own.url}/rest/api/3/issue/${idOrKey}?fields=issuetype`, { headers: AUTH });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const before = await get(first!.id);
      expect(before.status).toBe(200);
      expectValid(issueBean, before.body);
      expectValid(issueType, (before.body.fields as Record<string, unknown>).issuetype);
      expect(before.body).toMatchObject({ id: first!.id, key: first!.key });

      const moved = site.moveIssue(first!.key, 'INC', new Date('2026-03-01T00:00:00Z'));
      expect(moved).toMatch(/^INC-\d+$/);
      expect((await get(first!.id)).body).toMatchObject({ id: first!.id, key: moved });
      expect(
        site
          .issue(moved)
          .histories.at(-1)!
          .items.map((change) => change.field)
      ).toEqual(['Key', 'project']);

      site.deleteIssue(second!.key);
      const gone = await get(second!.id);
      expect(gone.status).toBe(404);
      expectValid(errorCollection, gone.body);
      expect(site.links.some((link) => link.inwardKey === second!.key || link.outwardKey === second!.key)).toBe(false);
    } finally {
      await own.stop();
    }
  });

  it('evaluates the default JQLs and the time bound in the account zone', async () => {
    const keys = async (jql: string) => {
      const pages = await searchAll(jql);
      return new Set(pages.flatMap((page) => (page.issues as Array<{ key: string }>).map((issue) => issue.key)));
    };
    const incidents = await keys('labels = incident OR issuetype = Incident');
    const postmortems = await keys('labels = postmortem OR issuetype = "Post-incident review"');
    const actionItems = await keys('labels = action-item');
    const truth = history.expectedFacts();
    expect(postmortems).toEqual(new Set(truth.postmortems.keys()));
    expect(actionItems).toEqual(new Set(truth.actionItems.keys()));
    expect(incidents).toEqual(new Set([...truth.ticketByPagerDutyId.values(), ...truth.jiraIncidents.keys()]));

    // Sydney is UTC+11 in February: "2026-02-10 11:00" there is 00:00 UTC.
    const bound = Date.parse('2026-02-10T00:00:00Z');
    const recent = await keys('(labels = action-item) AND updated >= "2026-02-10 11:00"');
    expect(recent).toEqual(
      new Set(
        [...history.issues.values()]
          .filter((issue) => actionItems.has(issue.key) && issue.updated >= bound)
          .map((issue) => issue.key)
      )
    );
    expect(recent.size).toBeGreaterThan(0);
    expect(recent.size).toBeLessThan(actionItems.size);
  });

  it('answers 429 with Retry-After and X-RateLimit-Reset when called too fast', async () => {
    server.setRateLimit({ requests: 2, windowMs: 60_000 });
    try {
      const answers = [];
      for (let n = 0; n < 3; n++) {
        answers.push(await call('GET', '/rest/api/3/myself'));
      }
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
      const limited = answers[2]!;
      expectValid(errorCollection, limited.body);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(Date.parse(limited.headers.get('x-ratelimit-reset')!)).toBeGreaterThan(Date.now() + 50_000);
    } finally {
      server.setRateLimit(undefined);
    }
  });
});

describe('the validator itself', () => {
  it.each<[string, ValidateFunction, unknown]>([
    [
      'a page with offset paging fields',
      responseValidator('/rest/api/3/search/jql', 'post', '200'),
      { issues: [], startAt: 0, total: 0 },
    ],
    ['isLast as text', responseValidator('/rest/api/3/search/jql', 'post', '200'), { issues: [], isLast: 'yes' }],
    [
      'an issue with an unknown property',
      responseValidator('/rest/api/3/search/jql', 'post', '200'),
      { issues: [{ id: '1', summary: 'x' }] },
    ],
    [
      'a history with a non-date',
      responseValidator('/rest/api/3/issue/{issueIdOrKey}/changelog', 'get', '200'),
      { values: [{ id: '1', created: 'yesterday', items: [] }] },
    ],
    ['error messages as one string', errorCollection, { errorMessages: 'Unbounded', errors: {} }],
    ['a status whose category key is a number', statusDetails, { id: '1', name: 'Open', statusCategory: { key: 2 } }],
    ['a link without a type', issueLinkAsField, { id: '1', outwardIssue: { key: 'INC-1' } }],
    [
      'a change whose new value is a number',
      responseValidator('/rest/api/3/issue/{issueIdOrKey}/changelog', 'get', '200'),
      {
        values: [{ id: '1', created: '2026-03-02T21:07:00.000+1100', items: [{ field: 'status', from: null, to: 3 }] }],
      },
    ],
  ])('rejects %s', (_name, validate, payload) => {
    expect(validate(payload)).toBe(false);
  });

  it('accepts Jira’s colon-less offsets as date-times', () => {
    const changelog = responseValidator('/rest/api/3/issue/{issueIdOrKey}/changelog', 'get', '200');
    expect(changelog({ values: [{ id: '1', created: '2026-03-02T21:07:00.000+1100', items: [] }] })).toBe(true);
  });
});
