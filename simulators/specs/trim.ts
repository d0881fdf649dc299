/**
 * Writes the trimmed OpenAPI descriptions the contract tests validate the
 * simulators against: only the operations the simulators serve, and every
 * component they reference, transitively. Run it again to refresh them from
 * newer published descriptions:
 *
 *   npx tsx simulators/specs/trim.ts <pagerduty openapiv3.json> <jira swagger-v3.v3.json>
 *
 * Everything kept is copied unchanged, so a JSON pointer into the full
 * description (`#/paths/~1incidents/get/...`) means the same in the copy.
 */
import { readFileSync, writeFileSync } from 'node:fs';

type Json = Record<string, unknown>;

interface Selection {
  /** Path to the methods to keep. */
  paths: Record<string, string[]>;
  /** Components the tests use directly, as JSON pointers (`#/components/schemas/Name`). */
  components: string[];
}

const PAGERDUTY: Selection = {
  paths: {
    '/incidents': ['get'],
    '/incidents/{id}': ['get'],
    '/incidents/{id}/log_entries': ['get'],
    '/log_entries': ['get'],
    '/log_entries/{id}': ['get'],
    '/users': ['get'],
    '/analytics/raw/incidents': ['post'],
  },
  components: ['#/components/responses/Conflict', '#/components/schemas/NotifyLogEntry'],
};

const JIRA: Selection = {
  paths: {
    '/rest/api/3/search/jql': ['get', 'post'],
    '/rest/api/3/changelog/bulkfetch': ['post'],
    '/rest/api/3/issue/{issueIdOrKey}': ['get'],
    '/rest/api/3/issue/{issueIdOrKey}/changelog': ['get'],
    '/rest/api/3/issue/{issueIdOrKey}/remotelink': ['get'],
    '/rest/api/3/myself': ['get'],
    '/rest/api/3/field': ['get'],
    '/rest/api/3/status': ['get'],
  },
  components: [
    'ErrorCollection',
    'StatusDetails',
    'Priority',
    'IssueTypeDetails',
    'UserDetails',
    'LinkedIssue',
    'IssueLink',
    'RemoteIssueLink',
    'ChangeDetails',
  ].map((name) => `#/components/schemas/${name}`),
};

const unescape = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      refsIn(item, found);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') {
        found.add(child);
      } else {
        refsIn(child, found);
      }
    }
  }
}

/** The kept description: the selected operations and the components they reach. */
function trim(full: Json, selection: Selection): Json {
  const fullPaths = full.paths as Record<string, Json>;
  const paths: Record<string, Json> = {};
  for (const [path, methods] of Object.entries(selection.paths)) {
    const item = fullPaths[path];
    if (!item) {
      throw new Error(`the description has no path ${path}`);
    }
    const kept: Json = {};
    if (item.parameters) {
      kept.parameters = item.parameters;
    }
    for (const method of methods) {
      if (!item[method]) {
        throw new Error(`the description has no ${method.toUpperCase()} ${path}`);
      }
      kept[method] = item[method];
    }
    paths[path] = kept;
  }

  const fullComponents = (full.components ?? {}) as Record<string, Json>;
  const components: Record<string, Json> = {};
  const pending = new Set<string>(selection.components);
  refsIn(paths, pending);
  const seen = new Set<string>();
  for (const ref of pending) {
    if (seen.has(ref)) {
      continue;
    }
    seen.add(ref);
    // A reference into a component (`.../Tag/allOf/0`) keeps the whole component.
    const match = /^#\/components\/([^/]+)\/([^/]+)(?:\/.*)?$/.exec(ref);
    if (!match) {
      throw new Error(`cannot keep ${ref}: only references to components are followed`);
    }
    const kind = match[1]!;
    const name = unescape(match[2]!);
    const component = fullComponents[kind]?.[name];
    if (component === undefined) {
      throw new Error(`the description has no component ${ref}`);
    }
    (components[kind] ??= {})[name] = component;
    // Iterating a Set visits entries added during the loop.
    refsIn(component, pending);
  }
  for (const kind of Object.keys(components)) {
    components[kind] = sortedKeys(components[kind]!);
  }

  const { openapi, info, servers } = full;
  return { openapi, info, ...(servers ? { servers } : {}), paths, components };
}

function sortedKeys(object: Json): Json {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function main(args: string[]): void {
  if (args.length !== 2) {
    process.stderr.write('usage: tsx simulators/specs/trim.ts <pagerduty openapiv3.json> <jira swagger-v3.v3.json>\n');
    process.exitCode = 2;
    return;
  }
  const outputs: Array<[string, Selection, string]> = [
    [args[0]!, PAGERDUTY, 'pagerduty-rest-v2.trimmed.json'],
    [args[1]!, JIRA, 'jira-cloud-platform-v3.trimmed.json'],
  ];
  for (const [input, selection, name] of outputs) {
    const trimmed = trim(JSON.parse(readFileSync(input, 'utf8')) as Json, selection);
    const output = new URL(name, import.meta.url);
    writeFileSync(output, JSON.stringify(trimmed, null, 1) + '\n');
    process.stdout.write(`${output.pathname}: ${Object.keys(trimmed.paths as Json).length} paths\n`);
  }
}

main(process.argv.slice(2));
