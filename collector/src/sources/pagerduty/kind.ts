import { z } from 'zod';
import { positiveIntegerFromEnv, secretFromEnv, urlFromEnv } from '../../config.ts';
import { UsageError } from '../../errors.ts';
import type { SourceKind } from '../registry.ts';
import type { SourceAccount } from '../../sync/source.ts';
import { PagerDutySync } from './sync.ts';
import { startPagerDutyWebhook } from './webhooks.ts';

/** The kind's name, in the configuration and the `sources` table. */
export const PAGERDUTY_KIND = 'pagerduty';

const DEFAULT_API_URL = 'https://api.pagerduty.com';

export interface PagerDutyAccount extends SourceAccount {
  token: string;
  /** Verifies the account's v3 webhook deliveries; none: its webhook route is off. */
  webhookSecret: string | undefined;
  /** The variable that holds it, for messages. */
  webhookSecretVariable: string;
  /** Client-side pacing; PagerDuty's published limit unless the account has a higher one. */
  requestsPerMinute: number;
}

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const entry = z.strictObject({
  apiUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_API_URL),
  tokenEnv: variableName.default('PAGERDUTY_TOKEN'),
  webhookSecretEnv: variableName.optional(),
});

/** The pacing of every PagerDuty account, from the environment. */
function requestsPerMinute(env: NodeJS.ProcessEnv): number {
  return positiveIntegerFromEnv(env, 'PAGERDUTY_REQUESTS_PER_MINUTE', 960);
}

export const pagerDutyKind: SourceKind<PagerDutyAccount> = {
  kind: PAGERDUTY_KIND,
  label: 'PagerDuty',
  entry,
  account(name, raw, env) {
    const settings = raw as z.output<typeof entry>;
    const token = secretFromEnv(env, settings.tokenEnv);
    if (!token) {
      throw new UsageError(
        `sources: the PagerDuty account '${name}' reads its token from ${settings.tokenEnv}, which is not set`
      );
    }
    return {
      name,
      kind: PAGERDUTY_KIND,
      baseUrl: settings.apiUrl.replace(/\/+$/, ''),
      token,
      webhookSecret:
        settings.webhookSecretEnv === undefined ? undefined : secretFromEnv(env, settings.webhookSecretEnv),
      webhookSecretVariable: settings.webhookSecretEnv ?? 'webhookSecretEnv',
      requestsPerMinute: requestsPerMinute(env),
    };
  },
  accountFromEnv(env) {
    const token = secretFromEnv(env, 'PAGERDUTY_TOKEN');
    if (!token) {
      return undefined;
    }
    return {
      name: PAGERDUTY_KIND,
      kind: PAGERDUTY_KIND,
      baseUrl: urlFromEnv(env, 'PAGERDUTY_API_URL', DEFAULT_API_URL)!,
      token,
      webhookSecret: secretFromEnv(env, 'PAGERDUTY_WEBHOOK_SECRET'),
      webhookSecretVariable: 'PAGERDUTY_WEBHOOK_SECRET',
      requestsPerMinute: requestsPerMinute(env),
    };
  },
  setupHint: 'set PAGERDUTY_TOKEN',
  createSync(account, config, hooks) {
    return new PagerDutySync({
      name: account.name,
      apiUrl: account.baseUrl,
      token: account.token,
      requestsPerMinute: account.requestsPerMinute,
      historyStart: new Date(`${config.pagerduty.since}T00:00:00Z`),
      severity: config.severity,
      reconcileDays: config.pagerduty.reconcileDays,
      onResponse: hooks.onResponse && ((event) => hooks.onResponse!(account.name, event)),
    });
  },
  webhook: {
    secret: (account) => account.webhookSecret,
    start: (context) => startPagerDutyWebhook(context),
  },
};
