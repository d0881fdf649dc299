import type { IncomingHttpHeaders } from 'node:http';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { SourceAccount, SourceSync } from '../sync/source.ts';
import type { SyncCounts } from '../sync/store.ts';

/**
 * What a source kind's webhook looks like to `serve`: a route per account,
 * `POST /webhooks/<kind>/<account name>` (the account named after its kind
 * also answers at `/webhooks/<kind>`); the kind verifies, parses and
 * applies the deliveries.
 */

/** PagerDuty drops every webhook over 256 KB; no source sends larger ones. */
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

export interface WebhookDelivery {
  /** Signatures are over these exact bytes. */
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  receivedAt: Date;
  /** For the log line of a refused delivery. */
  remoteAddress: string | undefined;
}

export interface WebhookAnswer {
  status: number;
  body: { status: string; reason?: string };
}

/** What became of a webhook delivery. */
export type WebhookOutcome =
  'accepted' | 'duplicate' | 'ignored' | 'bad_signature' | 'malformed' | 'too_large' | 'unavailable';

/** The metrics of one account's webhook (its /metrics label is the account's name). */
export interface WebhookMetrics {
  observeWebhook(outcome: WebhookOutcome): void;
  observeIngested(counts: SyncCounts): void;
  observeWebhookApplied(latencySeconds: number): void;
  setWebhookBacklog(incidents: number): void;
}

export interface WebhookContext<Account extends SourceAccount> {
  db: Kysely<Database>;
  account: Account;
  /** The account's row in `sources`. */
  sourceId: number;
  /** The account's sync, which the webhook's refreshes go through. */
  sync: SourceSync;
  metrics: WebhookMetrics;
  logger: Logger;
  /** Fires when serve stops. */
  signal: AbortSignal;
}

/** A running webhook of one account. */
export interface WebhookReceiver {
  receive(delivery: WebhookDelivery): Promise<WebhookAnswer>;
  /** Resolves when no accepted delivery waits to be applied (tests, benchmarks). */
  idle(): Promise<void>;
  /** Takes no more work and lets the work under way finish. */
  stop(): Promise<void>;
}

export interface SourceWebhook<Account extends SourceAccount> {
  /** The secret that verifies the account's deliveries; without one, its route is off. */
  secret(account: Account): string | undefined;
  /** Starts the account's webhook (and takes up deliveries accepted before the last stop). */
  start(context: WebhookContext<Account>): Promise<WebhookReceiver>;
}

/** The routes of an account's webhook. */
export function webhookRoutes(account: SourceAccount): string[] {
  const own = `/webhooks/${account.kind}/${account.name}`;
  return account.name === account.kind ? [own, `/webhooks/${account.kind}`] : [own];
}
