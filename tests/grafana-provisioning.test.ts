import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpolateSqlVariables, type SqlVariable } from '../plugin/src/data/templateVariables.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { expandGrafanaMacros, queryToFrame } from './support/grafana-postgres.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { endPool, readerUrl } from './support/reader-role.ts';

// Every provisioning file, checked for the shape Grafana reads, and every SQL
// text in it run against a real, migrated database as incident_lens_reader.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const PROVISIONING = path.join(REPO, 'provisioning');
const DATASOURCE_UID = 'incident-lens-pg';
const PLUGIN_ID = 'incidentlens-analytics-app';
const PANEL_ID = 'incidentlens-incidents-panel';
// Core panels of Grafana 13 that the dashboards use, plus the app's own panel.
const PANEL_TYPES = new Set([
  'stat',
  'timeseries',
  'table',
  'barchart',
  'piechart',
  'bargauge',
  'heatmap',
  'text',
  'row',
  PANEL_ID,
]);

function yamlFile(relative: string): Record<string, unknown> {
  return parseYaml(readFileSync(path.join(PROVISIONING, relative), 'utf8')) as Record<string, unknown>;
}

function filesIn(folder: string, extension: string): string[] {
  return readdirSync(path.join(PROVISIONING, folder))
    .filter((file) => file.endsWith(extension))
    .map((file) => `${folder}/${file}`);
}

/** Environment variables a provisioning file uses (Grafana expands $VAR and ${VAR}). */
function environmentReferences(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]!);
}

interface Target {
  refId: string;
  rawSql: string;
  format: string;
  datasource?: { uid?: string; type?: string };
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string; rawSql?: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string | string[] };
  datasource?: { uid?: string; type?: string };
}

interface Dashboard {
  uid: string;
  title: string;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboards = filesIn('dashboards', '.json').map((file) => ({
  file,
  dashboard: JSON.parse(readFileSync(path.join(PROVISIONING, file), 'utf8')) as Dashboard,
}));

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** The time range of a dashboard's default `now-…` setting, as epoch ms. */
function defaultRange(time: { from: string; to: string }, now: number): { from: number; to: number } {
  const units: Record<string, number> = {
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    M: 2_592_000_000,
    y: 31_536_000_000,
  };
  const parse = (expression: string) => {
    if (expression.startsWith('now/')) {
      return now;
    }
    const match = /^now(?:-(\d+)([mhdwMy]))?(?:\/[dwMy])?$/.exec(expression);
    if (!match) {
      throw new Error(`unsupported time expression ${expression}`);
    }
    return match[1] ? now - Number(match[1]) * units[match[2]!]! : now;
  };
  return { from: parse(time.from), to: parse(time.to) };
}

/** The dashboard's variables at their saved values, as the Grafana frontend interpolates them. */
function savedVariables(dashboard: Dashboard): Record<string, SqlVariable> {
  const variables: Record<string, SqlVariable> = {};
  for (const variable of dashboard.templating.list) {
    if (variable.type === 'datasource') {
      continue;
    }
    const value = variable.current?.value ?? '';
    variables[variable.name] = {
      value,
      multi: variable.multi,
      includeAll: variable.includeAll,
      allValue: variable.allValue,
    };
  }
  return variables;
}

let database: TestDatabase;
let reader: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date() });
  reader = new pg.Pool({ connectionString: await readerUrl(database.url), max: 2 });
});

afterAll(async () => {
  if (reader) {
    await endPool(reader);
  }
  await database?.destroy();
});

async function runAsReader(sql: string): Promise<ReturnType<typeof queryToFrame>> {
  const client = await reader.connect();
  try {
    return await queryToFrame(client, sql, 'A');
  } finally {
    client.release();
  }
}

describe('provisioning/datasources', () => {
  it('defines incident-lens-pg as a PostgreSQL datasource connected as incident_lens_reader, secrets from the environment', () => {
    const file = yamlFile('datasources/incident-lens.yaml') as {
      apiVersion: number;
      datasources: Array<Record<string, any>>;
    };
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    const datasource = file.datasources[0]!;
    expect(datasource).toMatchObject({
      uid: DATASOURCE_UID,
      type: 'grafana-postgresql-datasource',
      user: 'incident_lens_reader',
    });
    expect(datasource.jsonData.database).toBeTruthy();
    expect(datasource.secureJsonData.password).toMatch(/^\$\{\w+\}$/);
    expect(datasource.password).toBeUndefined();
  });
});

describe('provisioning/plugins', () => {
  it('enables the app with the settings its Configuration page reads', () => {
    const file = yamlFile('plugins/incident-lens.yaml') as { apiVersion: number; apps: Array<Record<string, any>> };
    expect(file.apps).toEqual([
      expect.objectContaining({
        type: PLUGIN_ID,
        org_id: 1,
        disabled: false,
        jsonData: expect.objectContaining({ datasourceUid: DATASOURCE_UID }),
      }),
    ]);
  });
});

describe('provisioning/dashboards', () => {
  it('has a file provider reading the folder docker-compose mounts', () => {
    const file = yamlFile('dashboards/incident-lens.yaml') as { providers: Array<Record<string, any>> };
    expect(file.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/etc/grafana/provisioning/dashboards' }),
      }),
    ]);
  });

  it('has the dashboards the issues name', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.title).sort()).toEqual([
      'Action items follow-through',
      'Incident overview',
      'Monthly SLA compliance',
      'On-call load',
    ]);
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    it('chooses its datasource with a variable that defaults to incident-lens-pg', () => {
      const datasourceVariables = dashboard.templating.list.filter((variable) => variable.type === 'datasource');
      expect(datasourceVariables).toEqual([
        expect.objectContaining({
          name: 'datasource',
          query: 'grafana-postgresql-datasource',
          current: expect.objectContaining({ value: DATASOURCE_UID }),
        }),
      ]);
      for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
        expect(variable.datasource, `variable ${variable.name}`).toEqual({
          type: 'grafana-postgresql-datasource',
          uid: '${datasource}',
        });
      }
    });

    it('reads every panel through that variable, with core panels or the Incident Lens panel', () => {
      for (const panel of allPanels(dashboard.panels).filter((candidate) => candidate.type !== 'row')) {
        expect(PANEL_TYPES.has(panel.type), `${panel.title}: panel type ${panel.type}`).toBe(true);
        if (panel.type === 'text') {
          continue;
        }
        expect(panel.datasource, panel.title).toEqual({ type: 'grafana-postgresql-datasource', uid: '${datasource}' });
        expect(panel.targets?.length, `${panel.title} has no query`).toBeGreaterThan(0);
      }
    });

    it('runs every panel and variable query against the real schema as incident_lens_reader', async () => {
      const range = defaultRange(dashboard.time, Date.now());
      const variables = savedVariables(dashboard);
      const statements: Array<[string, string]> = [];
      for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
        const query =
          typeof variable.query === 'string' ? variable.query : (variable.query?.rawSql ?? variable.query?.query ?? '');
        statements.push([`variable ${variable.name}`, query]);
      }
      for (const panel of allPanels(dashboard.panels)) {
        for (const target of panel.targets ?? []) {
          statements.push([`${panel.title} ${target.refId}`, target.rawSql]);
        }
      }
      for (const [where, rawSql] of statements) {
        const sql = expandGrafanaMacros(interpolateSqlVariables(rawSql, variables), range);
        await expect(runAsReader(sql), `${where}: ${sql}`).resolves.toBeTruthy();
      }
    });

    it('gives the incidents panel the columns it requires', async () => {
      const range = defaultRange(dashboard.time, Date.now());
      for (const panel of allPanels(dashboard.panels).filter((candidate) => candidate.type === PANEL_ID)) {
        for (const target of panel.targets ?? []) {
          expect(target.format).toBe('table');
          const frame = await runAsReader(
            expandGrafanaMacros(interpolateSqlVariables(target.rawSql, savedVariables(dashboard)), range)
          );
          const names = frame.schema.fields.map((field) => field.name);
          expect(names).toEqual(expect.arrayContaining(['title', 'severity', 'status', 'created_at']));
        }
      }
    });
  });
});

interface AlertQuery {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: Record<string, any>;
}

interface AlertRule {
  uid: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  noDataState: string;
  execErrState: string;
}

const ruleFiles = filesIn('alerting', '.yaml')
  .map((file) => ({
    file,
    content: yamlFile(file) as {
      apiVersion: number;
      groups?: Array<{ orgId: number; name: string; folder: string; interval: string; rules: AlertRule[] }>;
    },
  }))
  .filter(({ content }) => content.groups !== undefined);
const rules = ruleFiles.flatMap(({ content }) => content.groups!.flatMap((group) => group.rules));

describe('provisioning/alerting', () => {
  it('has the rules: overdue action items, ack SLA compliance, collector stale, sleep-hour interruptions', () => {
    expect(rules.map((rule) => rule.uid).sort()).toEqual([
      'incident-lens-ack-sla-compliance',
      'incident-lens-collector-stale',
      'incident-lens-overdue-action-items',
      'incident-lens-sleep-interruptions',
    ]);
    for (const { content } of ruleFiles) {
      expect(content.apiVersion).toBe(1);
      for (const group of content.groups!) {
        expect(group).toMatchObject({
          orgId: 1,
          folder: expect.any(String),
          interval: expect.stringMatching(/^\d+[smh]$/),
        });
      }
    }
  });

  describe.each(rules)('$title', (rule) => {
    it('is a valid rule whose condition is an expression over time-series SQL queries', () => {
      expect(rule.data.map((query) => query.refId)).toContain(rule.condition);
      expect(['OK', 'NoData', 'Alerting', 'KeepLast']).toContain(rule.noDataState);
      expect(['Error', 'Alerting', 'OK', 'KeepLast']).toContain(rule.execErrState);
      expect(rule.labels.product).toBe('incident-lens');
      expect(rule.annotations.summary).toBeTruthy();
      const sqlQueries = rule.data.filter((query) => query.datasourceUid !== '__expr__');
      expect(sqlQueries.length).toBeGreaterThan(0);
      for (const query of sqlQueries) {
        expect(query.datasourceUid).toBe(DATASOURCE_UID);
        // Grafana alerts only on time-series results from SQL datasources.
        expect(query.model.format).toBe('time_series');
        expect(query.model.rawSql).toBeTruthy();
        expect(query.relativeTimeRange).toBeDefined();
      }
      const condition = rule.data.find((query) => query.refId === rule.condition)!;
      expect(condition.datasourceUid).toBe('__expr__');
      expect(condition.model.type).toBe('threshold');
      for (const expression of rule.data.filter((query) => query.datasourceUid === '__expr__')) {
        expect(rule.data.map((query) => query.refId)).toContain(expression.model.expression);
      }
    });

    it('uses no $ outside annotations, where Grafana would expand it as an environment variable', () => {
      const { annotations: _annotations, ...rest } = rule;
      expect(JSON.stringify(rest)).not.toMatch(/\$(?!\$)/);
    });

    it('runs as incident_lens_reader and returns a time column and exactly one numeric value per series', async () => {
      for (const query of rule.data.filter((candidate) => candidate.datasourceUid !== '__expr__')) {
        const now = Date.now();
        const range = {
          from: now - query.relativeTimeRange!.from * 1000,
          to: now - query.relativeTimeRange!.to * 1000,
        };
        const frame = await runAsReader(expandGrafanaMacros(query.model.rawSql, range));
        const types = frame.schema.fields.map((field) => field.type);
        expect(types.filter((type) => type === 'time')).toHaveLength(1);
        // The threshold applies to every numeric column: a second one would be judged against it too.
        expect(types.filter((type) => type === 'number')).toHaveLength(1);
      }
    });
  });

  it('routes product=incident-lens alerts to a contact point that exists', () => {
    const contactPoints = yamlFile('alerting/contact-points.yaml') as {
      contactPoints: Array<{ name: string; receivers: Array<{ uid: string; type: string }> }>;
    };
    const policies = yamlFile('alerting/notification-policies.yaml') as {
      policies: Array<{ receiver: string; routes: Array<{ receiver: string; object_matchers: string[][] }> }>;
    };
    const names = contactPoints.contactPoints.map((point) => point.name);
    const policy = policies.policies[0]!;
    expect(names).toContain(policy.receiver);
    const route = policy.routes.find((candidate) =>
      candidate.object_matchers.some(
        ([label, op, value]) => label === 'product' && op === '=' && value === 'incident-lens'
      )
    );
    expect(route && names).toContain(route?.receiver);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      { image?: string; command?: string[]; environment?: Record<string, string>; volumes?: string[] }
    >;
  };
  const grafana = compose.services.grafana!;

  it('runs Grafana OSS with the built plugin mounted, the unsigned app and panel allowed by id, and provisioning mounted', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:13\./);
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        `./plugin/dist:/var/lib/grafana/plugins/${PLUGIN_ID}:ro`,
        './provisioning:/etc/grafana/provisioning:ro',
      ])
    );
    expect(grafana.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS?.split(',').sort()).toEqual([
      PLUGIN_ID,
      PANEL_ID,
    ]);
  });

  it('sets every environment variable the provisioning files use', () => {
    const files = ['datasources/incident-lens.yaml', 'plugins/incident-lens.yaml', ...filesIn('alerting', '.yaml')];
    const used = new Set(
      files.flatMap((file) =>
        environmentReferences(readFileSync(path.join(PROVISIONING, file), 'utf8').replace(/^\s*#.*$/gm, ''))
      )
    );
    for (const name of used) {
      expect(Object.keys(grafana.environment ?? {}), name).toContain(name);
    }
  });

  it('runs the collector as incident-lens serve against the compose PostgreSQL', () => {
    const collector = compose.services.collector!;
    expect(collector.command?.[0]).toBe('serve');
    expect(collector.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
  });
});
