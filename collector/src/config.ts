import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SEVERITIES } from '@incident-lens/common/report';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseIsoDay } from './dates.ts';
import { UsageError } from './errors.ts';
import { parseLogLevel, redactSecrets, registerSecret, type LogLevel } from './logger.ts';
import { resolveSourceAccounts } from './sources/registry.ts';
import type { SourceAccount } from './sync/source.ts';

export { SEVERITIES, type Severity } from '@incident-lens/common/report';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `15m`, `4h`, `7d` to seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) {
    throw new Error(`a duration is written like 90s, 15m, 4h or 7d: got '${text}'`);
  }
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

const duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const isoDay = z.string().transform((text, ctx) => {
  try {
    return parseIsoDay(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `a date is written YYYY-MM-DD: ${(error as Error).message}` });
    return z.NEVER;
  }
});

const timezone = z
  .string()
  .refine(isValidTimeZone, { error: (issue) => `not an IANA time zone: '${String(issue.input)}'` });

const severityName = z.enum(SEVERITIES);

const slaTarget = z.strictObject({ ack: duration, resolve: duration, postmortem: duration.optional() });

const DEFAULT_SLA = {
  SEV1: { ack: '15m', resolve: '1h', postmortem: '48h' },
  SEV2: { ack: '30m', resolve: '4h', postmortem: '7d' },
  SEV3: { ack: '2h', resolve: '24h' },
  SEV4: { ack: '24h', resolve: '7d' },
};

const jiraSearch = z.strictObject({ jql: z.string().min(1) });

/** An account's name is part of a URL path, a lock and a metrics label. */
const accountName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
    'an account name is 1-63 letters, digits, - or _, starting with a letter or digit'
  );

/** Each kind checks the rest of its entries (sources/registry.ts). */
const sourceEntry = z.looseObject({ name: accountName, kind: z.string() });

// Who receives which period's report. The recipient of a Slack message is the
// variable that holds its webhook URL: the URL itself is a secret.
const deliveryTarget = z
  .strictObject({
    report: z.enum(['day', 'week', 'month'], {
      error: (issue) => `unknown period '${String(issue.input)}': use day, week or month`,
    }),
    email: z.array(z.email({ error: (issue) => `not an e-mail address: '${String(issue.input)}'` })).optional(),
    slackWebhookEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable')
      .optional(),
  })
  .refine(
    (target) => (target.email?.length ?? 0) > 0 || target.slackWebhookEnv !== undefined,
    'names no recipient: add email or slackWebhookEnv'
  );

const configSchema = z.strictObject({
  timezone: timezone.default('UTC'),
  repeatWindowDays: z.number().int().positive().default(90),
  onCall: z
    .strictObject({
      // Sleep-hour interruptions in 7 days that raise the Grafana alert for a responder.
      sleepInterruptionAlert: z.number().int().positive().default(3),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      sync: z.string().default('*/5 * * * *'),
      dailyReport: z.string().default('0 6 * * *'),
      weeklyReport: z.string().default('0 6 * * 1'),
      monthlyReport: z.string().default('0 6 1 * *'),
    })
    .prefault({}),
  severity: z
    .strictObject({
      map: z.record(z.string(), severityName).default({}),
      fromUrgency: z.record(z.string(), severityName).default({}),
    })
    .prefault({}),
  sla: z
    .strictObject({
      SEV1: slaTarget.prefault(DEFAULT_SLA.SEV1),
      SEV2: slaTarget.prefault(DEFAULT_SLA.SEV2),
      SEV3: slaTarget.prefault(DEFAULT_SLA.SEV3),
      SEV4: slaTarget.prefault(DEFAULT_SLA.SEV4),
    })
    .prefault({}),
  pagerduty: z
    .strictObject({
      since: isoDay.default('2025-01-01'),
      // Every incremental sync re-reads the incidents created this many days back: changes that left no log entry.
      reconcileDays: z.number().int().positive().default(30),
    })
    .prefault({}),
  jira: z
    .strictObject({
      since: isoDay.default('2025-01-01'),
      incidents: jiraSearch.default({ jql: 'labels = incident OR issuetype = Incident' }),
      postmortems: jiraSearch.default({ jql: 'labels = postmortem OR issuetype = "Post-incident review"' }),
      actionItems: jiraSearch.default({ jql: 'labels = action-item' }),
      newStatuses: z.array(z.string()).default(['Open', 'New', 'To Do']),
      fields: z
        .strictObject({
          severity: z.string().default('priority'),
          rootCause: z.string().nullable().default(null),
          pagerdutyIncident: z.string().nullable().default(null),
          // Unset: the site's only SLA field of Jira Service Management, found by its type.
          firstResponseSla: z.string().nullable().default(null),
        })
        .prefault({}),
    })
    .prefault({}),
  sources: z.array(sourceEntry).optional(),
  delivery: z.array(deliveryTarget).default([]),
});

export type FileConfig = z.output<typeof configSchema>;
export type SlaPolicy = FileConfig['sla'];

/** Where delivered reports go out; secrets stay in memory only. */
export interface DeliveryEnv {
  /** SMTP_URL (credentials included); unset: no e-mail can be sent. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** Slack incoming-webhook URL by the variable that holds it; a variable that is unset has no entry. */
  slackWebhooks: Map<string, string>;
}

export interface Config extends Omit<FileConfig, 'sources'> {
  databaseUrl: string | undefined;
  deliveryEnv: DeliveryEnv;
  dataDir: string;
  configPath: string | undefined;
  logLevel: LogLevel;
  /** The configured accounts, in sync order, their secrets read. */
  sources: SourceAccount[];
}

/** Applies the schema to an already-parsed YAML document; errors name the key. */
export function parseFileConfig(document: unknown, origin = 'configuration'): FileConfig {
  const result = configSchema.safeParse(document ?? {});
  if (result.success) {
    return result.data;
  }
  throw new UsageError(describeConfigIssue(origin, result.error));
}

/** The first issue of a failed parse as a one-line error naming the key; an unknown key first (it is usually a typo). */
export function describeConfigIssue(origin: string, error: z.ZodError): string {
  const issue = error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    return `${origin}: unknown key '${where}${issue.keys[0]}'`;
  }
  return `${origin}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`;
}

/** Reads a secret from NAME or from the file named by NAME_FILE; the value is then never logged or printed. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') {
    registerSecret(direct);
    return direct;
  }
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') {
    return undefined;
  }
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`${name}_FILE names a file that cannot be read: ${file}`, { cause: error });
  }
  registerSecret(value);
  return value === '' ? undefined : value;
}

/**
 * An http(s) URL from NAME. The sources authenticate with their own tokens,
 * so credentials written into the URL are refused: they would reach logs
 * and the database's list of sources. No message echoes them.
 */
export function urlFromEnv(env: NodeJS.ProcessEnv, name: string, fallback?: string): string | undefined {
  const value = env[name] || fallback;
  if (value === undefined) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} is not a URL: got '${redactSecrets(value)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${name} must be an http(s) URL: got '${redactSecrets(value)}'`);
  }
  if (url.username !== '' || url.password !== '') {
    registerSecret(value);
    throw new UsageError(
      `${name} must not hold credentials (user:password@): remove them; the API token variables carry the credentials`
    );
  }
  return value.replace(/\/+$/, '');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const explicitPath = env.INCIDENT_LENS_CONFIG;
  const configPath = explicitPath
    ? path.resolve(cwd, explicitPath)
    : existsSync(path.join(cwd, 'incident-lens.yaml'))
      ? path.join(cwd, 'incident-lens.yaml')
      : undefined;
  let document: unknown = {};
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (error) {
      throw new UsageError(`INCIDENT_LENS_CONFIG names a file that cannot be read: ${configPath}`, { cause: error });
    }
    try {
      document = parseYaml(text);
    } catch (error) {
      throw new UsageError(`${configPath} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
        cause: error,
      });
    }
  }
  const file = parseFileConfig(document, configPath ?? 'built-in defaults');

  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(env.LOG_LEVEL);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  const sources = resolveSourceAccounts(file.sources, env, (where, error) =>
    describeConfigIssue(`${configPath ?? 'built-in defaults'}: ${where}`, error)
  );

  const slackWebhooks = new Map<string, string>();
  for (const target of file.delivery) {
    const variable = target.slackWebhookEnv;
    const url = variable === undefined ? undefined : secretFromEnv(env, variable);
    if (variable !== undefined && url !== undefined) {
      slackWebhooks.set(variable, url);
    }
  }

  return {
    ...file,
    databaseUrl: secretFromEnv(env, 'DATABASE_URL'),
    deliveryEnv: {
      smtpUrl: secretFromEnv(env, 'SMTP_URL'),
      smtpFrom: env.SMTP_FROM || `incident-lens@${os.hostname()}`,
      slackWebhooks,
    },
    dataDir: path.resolve(cwd, env.INCIDENT_LENS_DATA_DIR || '.incident-lens'),
    configPath,
    logLevel,
    sources,
  };
}

export function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') {
    return fallback;
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new UsageError(`${name} must be a positive whole number: got '${value}'`);
  }
  return number;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
