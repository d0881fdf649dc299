import { z } from 'zod';
import { secretFromEnv, urlFromEnv } from '../../config.ts';
import { UsageError } from '../../errors.ts';
import type { SourceAccount } from '../../sync/source.ts';
import type { SourceKind } from '../registry.ts';
import { JiraSync, jiraSyncOptions } from './sync.ts';

/** The kind's name, in the configuration and the `sources` table. */
export const JIRA_KIND = 'jira';

export interface JiraAccount extends SourceAccount {
  email: string;
  apiToken: string;
}

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const entry = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }),
  emailEnv: variableName.default('JIRA_EMAIL'),
  tokenEnv: variableName.default('JIRA_API_TOKEN'),
});

export const jiraKind: SourceKind<JiraAccount> = {
  kind: JIRA_KIND,
  label: 'Jira',
  entry,
  account(name, raw, env) {
    const settings = raw as z.output<typeof entry>;
    const email = env[settings.emailEnv];
    const apiToken = secretFromEnv(env, settings.tokenEnv);
    if (!email) {
      throw new UsageError(
        `sources: the Jira site '${name}' reads its account e-mail from ${settings.emailEnv}, which is not set`
      );
    }
    if (!apiToken) {
      throw new UsageError(
        `sources: the Jira site '${name}' reads its API token from ${settings.tokenEnv}, which is not set`
      );
    }
    return { name, kind: JIRA_KIND, baseUrl: settings.baseUrl.replace(/\/+$/, ''), email, apiToken };
  },
  accountFromEnv(env) {
    const baseUrl = urlFromEnv(env, 'JIRA_BASE_URL');
    if (baseUrl === undefined) {
      return undefined;
    }
    const email = env.JIRA_EMAIL;
    const apiToken = secretFromEnv(env, 'JIRA_API_TOKEN');
    if (!email) {
      throw new UsageError('JIRA_BASE_URL is set but JIRA_EMAIL is not: set the Jira account e-mail');
    }
    if (!apiToken) {
      throw new UsageError('JIRA_BASE_URL is set but JIRA_API_TOKEN is not: set a Jira API token');
    }
    return { name: JIRA_KIND, kind: JIRA_KIND, baseUrl, email, apiToken };
  },
  setupHint: 'set JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN',
  createSync(account, config, hooks) {
    return new JiraSync(
      jiraSyncOptions(config, {
        name: account.name,
        baseUrl: account.baseUrl,
        email: account.email,
        apiToken: account.apiToken,
        onResponse: hooks.onResponse && ((event) => hooks.onResponse!(account.name, event)),
      })
    );
  },
};
