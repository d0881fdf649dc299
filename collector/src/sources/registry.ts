import type { z } from 'zod';
import type { Config } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { ApiResponseEvent } from '../http/api-client.ts';
import type { SourceAccount, SourceSync } from '../sync/source.ts';
import { jiraKind } from './jira/kind.ts';
import { pagerDutyKind } from './pagerduty/kind.ts';
import type { SourceWebhook } from './webhook.ts';

/**
 * The source registry: everything the rest of the collector knows about a
 * kind of source is its entry here. `serve`, the CLI and the configuration
 * read the registry; adding a kind means adding a folder with its entry
 * and registering it, nothing else.
 */

/** Observers attached to an account's API client (serve's metrics), told the account's name. */
export interface SourceHooks {
  onResponse?: (source: string, event: ApiResponseEvent) => void;
}

export interface SourceKind<Account extends SourceAccount = SourceAccount> {
  /** The kind's name in `sources:` entries and in the `sources` table. */
  kind: string;
  /** How people write it ('PagerDuty'). */
  label: string;
  /**
   * The keys of a `sources:` entry besides `name` and `kind`; unknown keys
   * are refused. Its output is what `account` gets.
   */
  entry: z.ZodType;
  /** The account an entry describes, its secrets read from the variables the entry names. */
  account(name: string, entry: unknown, env: NodeJS.ProcessEnv): Account;
  /** The account the single-account variables describe, named after the kind, when they are set. */
  accountFromEnv(env: NodeJS.ProcessEnv): Account | undefined;
  /** What to set to configure an account this way, for the error of a command that needs one. */
  setupHint: string;
  /**
   * The account's sync. Its advisory lock, checkpoints and freshness are
   * keyed by the account's row in `sources`, which its name selects.
   */
  createSync(account: Account, config: Config, hooks: SourceHooks): SourceSync;
  /** Absent: the kind takes no webhooks. */
  webhook?: SourceWebhook<Account>;
}

let registered: Map<string, SourceKind> | undefined;

// Built on first use, not at import: the kinds import modules that import the configuration, which reads the registry.
function registry(): Map<string, SourceKind> {
  registered ??= new Map<string, SourceKind>(
    // PagerDuty first: Jira tickets then find the incidents they refer to.
    [pagerDutyKind as unknown as SourceKind, jiraKind as unknown as SourceKind].map((kind) => [kind.kind, kind])
  );
  return registered;
}

/** Adds a kind; accounts of it sync after those of the kinds registered before it. */
export function registerSourceKind<Account extends SourceAccount>(kind: SourceKind<Account>): void {
  if (registry().has(kind.kind)) {
    throw new Error(`a source kind named '${kind.kind}' is already registered`);
  }
  registry().set(kind.kind, kind as unknown as SourceKind);
}

/** Removes a kind registered by `registerSourceKind` (tests). */
export function unregisterSourceKind(name: string): void {
  registry().delete(name);
}

export function sourceKinds(): SourceKind[] {
  return [...registry().values()];
}

export function sourceKind(name: string): SourceKind {
  const kind = registry().get(name);
  if (!kind) {
    throw new UsageError(`unknown source kind '${name}': choose one of ${[...registry().keys()].join(', ')}`);
  }
  return kind;
}

/** A `sources:` entry as the configuration file gives it; its kind checks the rest. */
export interface SourceEntry {
  name: string;
  kind: string;
  [key: string]: unknown;
}

/**
 * The configured accounts, in sync order (by kind, in registration order,
 * then as listed): the `sources:` entries when there are any, else one
 * account per kind whose single-account variables are set.
 */
export function resolveSourceAccounts(
  entries: readonly SourceEntry[] | undefined,
  env: NodeJS.ProcessEnv,
  describeIssue: (where: string, error: z.ZodError) => string
): SourceAccount[] {
  const kinds = sourceKinds();
  const rank = (account: SourceAccount) => kinds.findIndex((kind) => kind.kind === account.kind);
  if (entries === undefined) {
    return kinds.flatMap((kind) => {
      const account = kind.accountFromEnv(env);
      return account ? [account] : [];
    });
  }
  const seen = new Set<string>();
  const accounts = entries.map((entry, index) => {
    const where = `sources[${index}]`;
    if (seen.has(entry.name)) {
      throw new UsageError(`${where}: the name '${entry.name}' is used twice: every account needs its own`);
    }
    seen.add(entry.name);
    const kind = sourceKind(entry.kind);
    const { name: _name, kind: _kind, ...rest } = entry;
    const parsed = kind.entry.safeParse(rest);
    if (!parsed.success) {
      throw new UsageError(describeIssue(where, parsed.error));
    }
    return kind.account(entry.name, parsed.data, env);
  });
  return accounts
    .map((account, index) => ({ account, index }))
    .sort((a, b) => rank(a.account) - rank(b.account) || a.index - b.index)
    .map(({ account }) => account);
}

/**
 * The accounts a command works on: all, an account by name, or every
 * account of a kind. None is a usage error that says what to set.
 */
export function selectAccounts(accounts: readonly SourceAccount[], which: string): SourceAccount[] {
  const byName = accounts.filter((account) => account.name === which);
  const selected =
    which === 'all' ? [...accounts] : byName.length > 0 ? byName : accounts.filter((account) => account.kind === which);
  if (selected.length > 0) {
    return selected;
  }
  const kinds = which === 'all' ? sourceKinds() : registry().has(which) ? [sourceKind(which)] : [];
  if (kinds.length === 0) {
    const names = [...accounts.map((account) => account.name), ...registry().keys()];
    throw new UsageError(`no source named '${which}': choose all, ${[...new Set(names)].join(', ')}`);
  }
  const hints = kinds.map((kind) => kind.setupHint).join(', or ');
  throw new UsageError(
    `no ${which === 'all' ? '' : `${which} `}source is configured: ${hints}, or list accounts under sources: in the configuration`
  );
}

/** The syncs of the given accounts, built by their kinds. */
export function createSyncs(accounts: readonly SourceAccount[], config: Config, hooks: SourceHooks = {}): SourceSync[] {
  return accounts.map((account) => sourceKind(account.kind).createSync(account, config, hooks));
}
