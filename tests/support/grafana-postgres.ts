import pg from 'pg';

/**
 * What Grafana's PostgreSQL datasource does on the server for a query from
 * /api/ds/query: expand its $__ macros for the request's time range, run the
 * SQL, and answer with data frames. The browser harness and the provisioning
 * tests use it to run the plugin's and the dashboards' SQL against a real
 * PostgreSQL exactly as Grafana would.
 */

export interface TimeRangeMs {
  from: number;
  to: number;
}

/** Go's time.RFC3339Nano for a UTC instant: trailing zeros of the fraction are dropped. */
export function rfc3339Nano(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_match, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

function intervalSeconds(text: string): number {
  const match = /^'?(\d+)(ms|s|m|h|d|w)'?$/.exec(text.trim());
  if (!match) {
    throw new Error(`unsupported interval '${text}' in a Grafana macro`);
  }
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  return Number(match[1]) * units[match[2]!]!;
}

/** Splits macro arguments on top-level commas (an argument may be an expression with parentheses). */
function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') {
      depth++;
    }
    if (char === ')') {
      depth--;
    }
    if (char === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  if (current.trim() !== '') {
    args.push(current.trim());
  }
  return args;
}

/**
 * The macros of Grafana's PostgreSQL datasource (docs: "Macros"), expanded
 * as its Go code does. An unknown macro is an error, so a query that relies
 * on one the harness does not know fails loudly instead of passing by luck.
 */
export function expandGrafanaMacros(sql: string, range: TimeRangeMs): string {
  const from = rfc3339Nano(range.from);
  const to = rfc3339Nano(range.to);
  const pattern = /\$__(\w+)\(((?:[^()]|\([^()]*\))*)\)/g;
  return sql.replace(pattern, (_match, name: string, rawArgs: string) => {
    const args = splitArguments(rawArgs);
    switch (name) {
      case 'time':
        return `${args[0]} AS "time"`;
      case 'timeEpoch':
        return `extract(epoch from ${args[0]}) AS "time"`;
      case 'timeFilter':
        return `${args[0]} BETWEEN '${from}' AND '${to}'`;
      case 'timeFrom':
      case 'timeTo':
        // These macros take no arguments: text between the parentheses would not reach the query.
        if (rawArgs.trim() !== '') {
          throw new Error(`$__${name}() takes no arguments, got '${rawArgs}'`);
        }
        return `'${name === 'timeFrom' ? from : to}'`;
      case 'unixEpochFrom':
        return String(Math.floor(range.from / 1000));
      case 'unixEpochTo':
        return String(Math.floor(range.to / 1000));
      case 'unixEpochFilter':
        return `${args[0]} >= ${Math.floor(range.from / 1000)} AND ${args[0]} <= ${Math.floor(range.to / 1000)}`;
      case 'timeGroup':
      case 'timeGroupAlias': {
        const seconds = intervalSeconds(args[1] ?? '');
        const group = `floor(extract(epoch from ${args[0]})/${seconds})*${seconds}`;
        return name === 'timeGroupAlias' ? `${group} AS "time"` : group;
      }
      default:
        throw new Error(`the harness does not expand the Grafana macro $__${name}`);
    }
  });
}

export interface FieldJSON {
  name: string;
  type: 'time' | 'number' | 'string' | 'boolean' | 'other';
  typeInfo?: { frame: string; nullable: boolean };
}

export interface DataFrameJSON {
  schema: { refId: string; meta?: Record<string, unknown>; fields: FieldJSON[] };
  data: { values: unknown[][] };
}

const { builtins } = pg.types;
const TIME_TYPES = new Set<number>([builtins.TIMESTAMPTZ, builtins.TIMESTAMP, builtins.DATE]);
const NUMBER_TYPES = new Set<number>([
  builtins.INT2,
  builtins.INT4,
  builtins.INT8,
  builtins.FLOAT4,
  builtins.FLOAT8,
  builtins.NUMERIC,
]);

function fieldType(dataTypeId: number): FieldJSON['type'] {
  if (TIME_TYPES.has(dataTypeId)) {
    return 'time';
  }
  if (NUMBER_TYPES.has(dataTypeId)) {
    return 'number';
  }
  if (dataTypeId === builtins.BOOL) {
    return 'boolean';
  }
  return 'string';
}

/** Raw text from PostgreSQL, converted as Grafana's Go converters do: times to epoch ms, numerics to doubles. */
function convertValue(type: FieldJSON['type'], dataTypeId: number, text: string | null): unknown {
  if (text === null) {
    return null;
  }
  if (type === 'time') {
    if (dataTypeId === builtins.DATE) {
      return Date.parse(`${text}T00:00:00Z`);
    }
    const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
    // A timestamp without zone is read as UTC, as Grafana does.
    return Date.parse(dataTypeId === builtins.TIMESTAMP ? `${iso}Z` : iso);
  }
  if (type === 'number') {
    return Number(text);
  }
  if (type === 'boolean') {
    return text === 't';
  }
  return text;
}

export async function queryToFrame(client: pg.ClientBase, sql: string, refId: string): Promise<DataFrameJSON> {
  // Rows as raw text, so that conversion follows Grafana's rules rather than node-pg's defaults.
  const result = await client.query({
    text: sql,
    rowMode: 'array',
    types: { getTypeParser: () => (value: string) => value },
  });
  const fields = result.fields.map((field) => {
    const type = fieldType(field.dataTypeID);
    return { name: field.name, type, typeInfo: { frame: type, nullable: true } } satisfies FieldJSON;
  });
  const values = result.fields.map((field, column) =>
    (result.rows as Array<Array<string | null>>).map((row) =>
      convertValue(fields[column]!.type, field.dataTypeID, row[column] ?? null)
    )
  );
  return { schema: { refId, meta: { executedQueryString: sql }, fields }, data: { values } };
}

export interface DsQuery {
  refId: string;
  rawSql: string;
  format?: 'table' | 'time_series';
  datasource?: { uid?: string; type?: string };
}

export interface DsQueryRequest {
  queries: DsQuery[];
  from: string;
  to: string;
}

export interface DsQueryResponse {
  results: Record<string, { status: number; frames?: DataFrameJSON[]; error?: string }>;
}

/** Answers a /api/ds/query body the way Grafana does for a PostgreSQL datasource: per-query errors, HTTP 200 unless all fail. */
export async function answerDsQuery(
  pool: pg.Pool,
  body: DsQueryRequest
): Promise<{ status: number; body: DsQueryResponse }> {
  const range = { from: Number(body.from), to: Number(body.to) };
  const results: DsQueryResponse['results'] = {};
  for (const query of body.queries) {
    try {
      const sql = expandGrafanaMacros(query.rawSql, range);
      const client = await pool.connect();
      try {
        results[query.refId] = { status: 200, frames: [await queryToFrame(client, sql, query.refId)] };
      } finally {
        client.release();
      }
    } catch (error) {
      results[query.refId] = { status: 400, error: (error as Error).message };
    }
  }
  const allFailed = Object.values(results).every((result) => result.error !== undefined);
  return { status: allFailed ? 400 : 200, body: { results } };
}
