import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../collector/src/config.ts';
import type { FakePagerDuty } from '@incident-lens/simulators';
import { createLogger, type LogLevel, type Logger } from '../../collector/src/logger.ts';
import { PagerDutySync, type PagerDutySyncOptions } from '../../collector/src/sources/pagerduty/sync.ts';
import type { SourceHooks } from '../../collector/src/sources/registry.ts';
import type { SourceAccount } from '../../collector/src/sync/source.ts';

/** A real pino logger whose JSON lines are kept for assertions. */
export interface CapturedLogger {
  logger: Logger;
  /** Every line written so far, parsed. */
  entries(): Array<Record<string, unknown>>;
  /** Every byte written so far. */
  text(): string;
}

export function captureLogger(level: LogLevel = 'debug'): CapturedLogger {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    logger: createLogger(level, sink),
    entries: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => text,
  };
}

/** `v1=<hex HMAC-SHA256>` of the body under each secret, as PagerDuty signs during a rotation. */
export function pagerDutySignature(body: string | Buffer, ...secrets: string[]): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`).join(',');
}

/** A v3 webhook body for an incident event, in PagerDuty's documented shape. */
export function incidentWebhookBody(
  eventId: string,
  eventType: string,
  incidentId: string,
  occurredAt = new Date()
): string {
  const data =
    eventType === 'incident.annotated'
      ? {
          id: 'PNOTE01',
          type: 'incident_note',
          content: 'looking',
          incident: { id: incidentId, type: 'incident_reference' },
        }
      : { id: incidentId, type: 'incident', status: 'acknowledged', title: 'from webhook' };
  return JSON.stringify({
    event: {
      id: eventId,
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: occurredAt.toISOString(),
      agent: { id: 'PUSER01', type: 'user_reference', summary: 'Responder' },
      client: { name: 'PagerDuty' },
      data,
    },
  });
}

export const TEST_TOKEN = 'pd-test-token-5b0c2e7a91';
export const TEST_WEBHOOK_SECRET = 'whsec-test-2f8d41c6e0a9';

/** The configuration serve reads, from the same environment variables a user sets. */
export function serveConfig(env: NodeJS.ProcessEnv, schedule: Partial<Config['schedule']> = {}): Config {
  const config = loadConfig({ LOG_LEVEL: 'debug', ...env }, '/nonexistent-incident-lens-cwd');
  return { ...config, schedule: { ...config.schedule, ...schedule } };
}

/** The sync of a configured account for `startServe` against a fake PagerDuty, with retries quick enough for a test. */
export function fakePagerDutySources(
  server: FakePagerDuty,
  historyStart: Date,
  options: Partial<PagerDutySyncOptions> = {}
): (account: SourceAccount, hooks: SourceHooks) => PagerDutySync {
  return (account, hooks) =>
    new PagerDutySync({
      name: account.name,
      apiUrl: server.url,
      token: TEST_TOKEN,
      historyStart,
      severity: { map: {}, fromUrgency: {} },
      requestsPerMinute: 1_000_000,
      backoffBaseMs: 5,
      onResponse: (event) => hooks.onResponse?.(account.name, event),
      ...options,
    });
}

/** Polls until `probe` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 25
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
