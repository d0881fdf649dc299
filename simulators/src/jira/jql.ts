/**
 * The subset of JQL the simulated Jira understands: AND / OR / NOT,
 * parentheses, comparisons, IN, IS [NOT] EMPTY, dates in the account's zone
 * and ORDER BY, with Jira's error wording.
 */
import { badRequest } from './errors.ts';
import { statusById } from './site-catalog.ts';
import type { SiteIssue } from './site.ts';
import { zonedWallTimeToInstant } from '../time-zones.ts';

type JqlValue = { kind: 'text'; text: string } | { kind: 'empty' } | { kind: 'list'; values: string[] };

export type JqlNode =
  | { type: 'and'; left: JqlNode; right: JqlNode }
  | { type: 'or'; left: JqlNode; right: JqlNode }
  | { type: 'not'; operand: JqlNode }
  | { type: 'clause'; field: string; operator: string; value: JqlValue };

export interface JqlQuery {
  where: JqlNode | null;
  orderBy: Array<{ field: string; descending: boolean }>;
}

interface Token {
  kind: 'word' | 'string' | 'operator' | 'paren' | 'comma';
  text: string;
}

const FIELD_ALIASES: Record<string, string> = {
  labels: 'labels',
  issuetype: 'issuetype',
  type: 'issuetype',
  project: 'project',
  status: 'status',
  statuscategory: 'statuscategory',
  priority: 'priority',
  key: 'key',
  issuekey: 'key',
  created: 'created',
  createddate: 'created',
  updated: 'updated',
  updateddate: 'updated',
  resolutiondate: 'resolutiondate',
  resolved: 'resolutiondate',
  duedate: 'duedate',
  due: 'duedate',
};

const DATE_FIELDS = new Set(['created', 'updated', 'resolutiondate', 'duedate']);

function tokenize(jql: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < jql.length) {
    const rest = jql.slice(position);
    const space = /^\s+/.exec(rest);
    if (space) {
      position += space[0].length;
      continue;
    }
    const quoted = /^"((?:[^"\\]|\\.)*)"|^'((?:[^'\\]|\\.)*)'/.exec(rest);
    if (quoted) {
      tokens.push({ kind: 'string', text: (quoted[1] ?? quoted[2]!).replace(/\\(.)/g, '$1') });
      position += quoted[0].length;
      continue;
    }
    const operator = /^(!=|>=|<=|!~|=|>|<|~)/.exec(rest);
    if (operator) {
      tokens.push({ kind: 'operator', text: operator[0] });
      position += operator[0].length;
      continue;
    }
    if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({ kind: 'paren', text: rest[0] });
      position += 1;
      continue;
    }
    if (rest[0] === ',') {
      tokens.push({ kind: 'comma', text: ',' });
      position += 1;
      continue;
    }
    const word = /^[^\s"'(),=!<>~]+/.exec(rest);
    if (!word) {
      throw badRequest(
        `Error in the JQL Query: The character '${rest[0]}' is a reserved JQL character. (line 1, character ${position + 1})`
      );
    }
    tokens.push({ kind: 'word', text: word[0] });
    position += word[0].length;
  }
  return tokens;
}

/** Enough JQL for the configured searches, their time bound and the tests. */
export function parseJql(jql: string): JqlQuery {
  const tokens = tokenize(jql);
  let index = 0;
  const peek = () => tokens[index];
  const isWord = (text: string, token = peek()) => token?.kind === 'word' && token.text.toLowerCase() === text;
  const expect = (predicate: boolean, what: string) => {
    if (!predicate) {
      const found = peek()?.text ?? 'the end of the query';
      throw badRequest(`Error in the JQL Query: Expecting ${what} but got '${found}'.`);
    }
  };

  const parseValue = (): JqlValue => {
    const token = peek();
    expect(token !== undefined && (token.kind === 'word' || token.kind === 'string'), 'a value');
    index += 1;
    return { kind: 'text', text: token!.text };
  };

  const parseClause = (): JqlNode => {
    const fieldToken = peek();
    expect(fieldToken !== undefined && (fieldToken.kind === 'word' || fieldToken.kind === 'string'), 'a field name');
    index += 1;
    const field = FIELD_ALIASES[fieldToken!.text.toLowerCase()];
    if (field === undefined) {
      throw badRequest(`Field '${fieldToken!.text}' does not exist or you do not have permission to view it.`);
    }
    let operator: string;
    if (peek()?.kind === 'operator') {
      operator = tokens[index++]!.text;
    } else if (isWord('in')) {
      index += 1;
      operator = 'in';
    } else if (isWord('not') && isWord('in', tokens[index + 1])) {
      index += 2;
      operator = 'not in';
    } else if (isWord('is')) {
      index += 1;
      operator = 'is';
      if (isWord('not')) {
        index += 1;
        operator = 'is not';
      }
    } else {
      expect(false, "an operator such as '=', '!=', 'in' or 'is'");
      operator = '';
    }
    let value: JqlValue;
    if (operator === 'is' || operator === 'is not') {
      expect(isWord('empty') || isWord('null'), "'EMPTY' or 'NULL'");
      index += 1;
      value = { kind: 'empty' };
    } else if (operator === 'in' || operator === 'not in') {
      expect(peek()?.text === '(', "'('");
      index += 1;
      const values: string[] = [];
      for (;;) {
        const element = parseValue();
        if (element.kind === 'text') {
          values.push(element.text);
        }
        if (peek()?.kind === 'comma') {
          index += 1;
          continue;
        }
        expect(peek()?.text === ')', "')' or ','");
        index += 1;
        break;
      }
      value = { kind: 'list', values };
    } else {
      value = parseValue();
    }
    if (DATE_FIELDS.has(field) && value.kind === 'text') {
      parseJqlDate(value.text, field, 'UTC');
    }
    return { type: 'clause', field, operator, value };
  };

  const parsePrimary = (): JqlNode => {
    if (isWord('not')) {
      index += 1;
      return { type: 'not', operand: parsePrimary() };
    }
    if (peek()?.text === '(' && peek()?.kind === 'paren') {
      index += 1;
      const inner = parseOr();
      expect(peek()?.text === ')', "')'");
      index += 1;
      return inner;
    }
    return parseClause();
  };

  const parseAnd = (): JqlNode => {
    let left = parsePrimary();
    while (isWord('and')) {
      index += 1;
      left = { type: 'and', left, right: parsePrimary() };
    }
    return left;
  };

  const parseOr = (): JqlNode => {
    let left = parseAnd();
    while (isWord('or')) {
      index += 1;
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };

  let where: JqlNode | null = null;
  if (index < tokens.length && !(isWord('order') && isWord('by', tokens[index + 1]))) {
    where = parseOr();
  }
  const orderBy: JqlQuery['orderBy'] = [];
  if (isWord('order')) {
    index += 1;
    expect(isWord('by'), "'by'");
    index += 1;
    for (;;) {
      const fieldToken = peek();
      expect(fieldToken?.kind === 'word', 'a field to order by');
      index += 1;
      const field = FIELD_ALIASES[fieldToken!.text.toLowerCase()];
      if (field === undefined) {
        throw badRequest(`Field '${fieldToken!.text}' does not exist or you do not have permission to view it.`);
      }
      let descending = false;
      if (isWord('asc') || isWord('desc')) {
        descending = tokens[index++]!.text.toLowerCase() === 'desc';
      }
      orderBy.push({ field, descending });
      if (peek()?.kind !== 'comma') {
        break;
      }
      index += 1;
    }
    if (orderBy.length > 7) {
      throw badRequest('The ORDER BY clause can contain a maximum of 7 fields.');
    }
  }
  expect(index === tokens.length, 'AND, OR or ORDER BY');
  return { where, orderBy };
}

/** `yyyy-MM-dd[ HH:mm]` or with slashes, read in `zone`, to epoch ms. */
function parseJqlDate(text: string, field: string, zone: string): number {
  const match = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?: (\d{1,2}):(\d{2}))?$/.exec(text.trim());
  const invalid = () =>
    badRequest(
      `Date value '${text}' for field '${field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`
    );
  if (!match) {
    throw invalid();
  }
  const [year, month, day, hour, minute] = [match[1], match[2], match[3], match[4] ?? '0', match[5] ?? '0'].map(
    Number
  ) as [number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23) {
    throw invalid();
  }
  return zonedWallTimeToInstant(wall, zone);
}

function fieldValues(issue: SiteIssue, field: string): string[] {
  const status = statusById(issue.statusId);
  switch (field) {
    case 'labels':
      return issue.labels;
    case 'issuetype':
      return [issue.issueType.name, issue.issueType.id];
    case 'project':
      return [issue.project.key, issue.project.name, issue.project.id];
    case 'status':
      return [status.name, status.id];
    case 'statuscategory':
      return [status.category, { new: 'To Do', indeterminate: 'In Progress', done: 'Done' }[status.category]];
    case 'priority':
      return issue.priority === null ? [] : [issue.priority];
    case 'key':
      return [issue.key, issue.id];
    default:
      return [];
  }
}

function dateValue(issue: SiteIssue, field: string): number | null {
  switch (field) {
    case 'created':
      return issue.created;
    case 'updated':
      return issue.updated;
    case 'resolutiondate':
      return issue.resolutiondate;
    case 'duedate':
      return issue.duedate === null ? null : Date.parse(`${issue.duedate}T00:00:00Z`);
    default:
      return null;
  }
}

export function evaluate(node: JqlNode, issue: SiteIssue, zone: string): boolean {
  if (node.type === 'and') {
    return evaluate(node.left, issue, zone) && evaluate(node.right, issue, zone);
  }
  if (node.type === 'or') {
    return evaluate(node.left, issue, zone) || evaluate(node.right, issue, zone);
  }
  if (node.type === 'not') {
    return !evaluate(node.operand, issue, zone);
  }
  const { field, operator, value } = node;
  if (DATE_FIELDS.has(field)) {
    const actual = dateValue(issue, field);
    if (value.kind === 'empty') {
      return operator === 'is' ? actual === null : actual !== null;
    }
    if (actual === null || value.kind !== 'text') {
      return false;
    }
    // A due date is a calendar day; other dates are instants read in the account's zone.
    const bound = field === 'duedate' ? parseJqlDate(value.text, field, 'UTC') : parseJqlDate(value.text, field, zone);
    switch (operator) {
      case '=':
        return actual === bound;
      case '!=':
        return actual !== bound;
      case '>':
        return actual > bound;
      case '>=':
        return actual >= bound;
      case '<':
        return actual < bound;
      case '<=':
        return actual <= bound;
      default:
        throw badRequest(`The operator '${operator}' is not supported by the '${field}' field.`);
    }
  }
  const actual = fieldValues(issue, field).map((text) => text.toLowerCase());
  const has = (text: string) => actual.includes(text.toLowerCase());
  switch (operator) {
    case '=':
      return value.kind === 'text' && has(value.text);
    case '!=':
      return value.kind === 'text' && actual.length > 0 && !has(value.text);
    case 'in':
      return value.kind === 'list' && value.values.some(has);
    case 'not in':
      return value.kind === 'list' && actual.length > 0 && !value.values.some(has);
    case 'is':
      return actual.length === 0;
    case 'is not':
      return actual.length > 0;
    default:
      throw badRequest(`The operator '${operator}' is not supported by the '${field}' field.`);
  }
}

export function compareIssues(a: SiteIssue, b: SiteIssue, order: JqlQuery['orderBy']): number {
  for (const { field, descending } of order) {
    let difference: number;
    if (field === 'key') {
      difference =
        a.project.key.localeCompare(b.project.key) || Number(a.key.split('-')[1]) - Number(b.key.split('-')[1]);
    } else if (DATE_FIELDS.has(field)) {
      difference = (dateValue(a, field) ?? Number.MAX_SAFE_INTEGER) - (dateValue(b, field) ?? Number.MAX_SAFE_INTEGER);
    } else {
      difference = (fieldValues(a, field)[0] ?? '').localeCompare(fieldValues(b, field)[0] ?? '');
    }
    if (difference !== 0) {
      return descending ? -difference : difference;
    }
  }
  // Ties by id keep the order total, so search-after paging never skips or repeats.
  return Number(a.id) - Number(b.id);
}
