import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { loadConfig, secretFromEnv } from '../collector/src/config.ts';
import { redactSecrets, registerSecret } from '../collector/src/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { captureLogger } from './support/serve.ts';

/** Every secret the project reads, and the ways it could leak: log lines, error messages, the command line's output. */

let directory: string;
let database: TestDatabase;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-secrets-'));
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
  if (directory) {
    await rm(directory, { recursive: true, force: true });
  }
});

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  return runCli(args, { LOG_LEVEL: 'debug', ...env });
}

describe('redaction', () => {
  it('scrubs every registered secret and any credentials written into a URL, whatever the scheme', () => {
    registerSecret('tok-4fd0c2a1b7');
    registerSecret('postgres://lens:db-pass-93ac@db.internal:5432/lens');
    const text = redactSecrets(
      'token tok-4fd0c2a1b7; url postgres://lens:db-pass-93ac@db.internal:5432/lens; password alone db-pass-93ac; ' +
        'smtp smtps://mailer:m41l-s3cret@smtp.example.com:465; jira https://me%40acme.com:j1ra-pw@acme.atlassian.net/rest'
    );
    for (const secret of ['tok-4fd0c2a1b7', 'db-pass-93ac', 'm41l-s3cret', 'j1ra-pw', 'mailer:', 'me%40acme.com:']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('smtps://[redacted]@smtp.example.com:465');
    expect(text).toContain('https://[redacted]@acme.atlassian.net/rest');
  });

  it('keeps every secret the configuration reads out of log lines, whatever the field or the message', () => {
    const secrets = {
      PAGERDUTY_TOKEN: 'pd-token-0e5b7c9d1f',
      PAGERDUTY_WEBHOOK_SECRET: 'pd-whsec-6a2e8b0c4d',
      JIRA_API_TOKEN: 'jira-token-3c7d9e1f5a',
      DATABASE_URL: 'postgres://lens:pg-pass-8d2f4a6c@db.internal:5432/lens',
    };
    const config = loadConfig(
      { ...secrets, JIRA_BASE_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'ops@example.com' },
      directory
    );
    expect(config.databaseUrl).toBe(secrets.DATABASE_URL);
    const capture = captureLogger('debug');
    capture.logger.info({ config }, 'the whole configuration, as a careless log line would');
    capture.logger.warn(
      { detail: `request to ${config.databaseUrl} with token ${secrets.PAGERDUTY_TOKEN}` },
      `failed: ${secrets.JIRA_API_TOKEN}`
    );
    capture.logger.error({ err: new Error(`signature mismatch under ${secrets.PAGERDUTY_WEBHOOK_SECRET}`) }, 'webhook');
    capture.logger.info({ headers: { authorization: `Token token=${secrets.PAGERDUTY_TOKEN}` } }, 'request');
    const text = capture.text();
    expect(text).toContain('the whole configuration');
    for (const secret of [...Object.values(secrets), 'pg-pass-8d2f4a6c']) {
      expect(text).not.toContain(secret);
    }
  });

  it('reads DATABASE_URL_FILE and SMTP_URL_FILE like the other _FILE variables, and treats what they hold as secret', async () => {
    const databaseFile = path.join(directory, 'database-url');
    const smtpFile = path.join(directory, 'smtp-url');
    await writeFile(databaseFile, 'postgres://lens:file-db-pass-51e7@db.internal/lens\n');
    await writeFile(smtpFile, 'smtps://mailer:file-smtp-pass-c3a9@smtp.example.com:465\n');
    expect(loadConfig({ DATABASE_URL_FILE: databaseFile }, directory).databaseUrl).toBe(
      'postgres://lens:file-db-pass-51e7@db.internal/lens'
    );
    expect(loadConfig({ SMTP_URL_FILE: smtpFile }, directory).deliveryEnv.smtpUrl).toBe(
      'smtps://mailer:file-smtp-pass-c3a9@smtp.example.com:465'
    );
    // The variable itself wins over the file, as for every _FILE variable.
    expect(secretFromEnv({ SMTP_URL: 'smtp://a:b@c', SMTP_URL_FILE: smtpFile }, 'SMTP_URL')).toBe('smtp://a:b@c');
    expect(() => loadConfig({ DATABASE_URL_FILE: path.join(directory, 'missing') }, directory)).toThrow(
      'DATABASE_URL_FILE names a file that cannot be read'
    );
    const capture = captureLogger('debug');
    capture.logger.info('connecting with file-db-pass-51e7 and file-smtp-pass-c3a9');
    expect(capture.text()).not.toMatch(/file-db-pass|file-smtp-pass/);
  });

  it('refuses credentials inside JIRA_BASE_URL and PAGERDUTY_API_URL without echoing them', () => {
    for (const [name, extra] of [
      ['JIRA_BASE_URL', { JIRA_EMAIL: 'ops@example.com', JIRA_API_TOKEN: 'jira-token-x1' }],
      ['PAGERDUTY_API_URL', { PAGERDUTY_TOKEN: 'pd-token-x1' }],
    ] as const) {
      let message = '';
      try {
        loadConfig({ ...extra, [name]: 'https://someone:hunter2-url-pass@acme.example.com' }, directory);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`${name} must not hold credentials`);
      expect(message).not.toContain('hunter2-url-pass');
      expect(message).not.toContain('someone');
    }
  });
});

describe('the command line never prints a secret', () => {
  it('runs with DATABASE_URL_FILE', async () => {
    const file = path.join(directory, 'database-url-ok');
    await writeFile(file, `${database.url}\n`);
    const result = await cli(['migrate'], { DATABASE_URL_FILE: file });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('schema is current');
    expect(result.stderr).not.toContain(new URL(database.url).password);
  });

  it('a wrong database password fails without printing it, from DATABASE_URL or DATABASE_URL_FILE', async () => {
    const wrong = new URL(database.url);
    wrong.password = 'wrong-pass-2b9d7f';
    const file = path.join(directory, 'database-url-wrong');
    await writeFile(file, wrong.toString());
    for (const env of [{ DATABASE_URL: wrong.toString() }, { DATABASE_URL_FILE: file }]) {
      const result = await cli(['migrate'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/password authentication failed/);
      expect(result.stderr).not.toContain('wrong-pass-2b9d7f');
    }
  });

  it('an error about JIRA_BASE_URL does not echo user:pass@', async () => {
    const result = await cli(['sync', '--source', 'jira'], {
      DATABASE_URL: database.url,
      JIRA_BASE_URL: 'https://admin:s3cr3t-in-url@acme.atlassian.net',
      JIRA_EMAIL: 'ops@example.com',
      JIRA_API_TOKEN: 'jira-token-cli-77',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('JIRA_BASE_URL must not hold credentials');
    expect(result.stderr).not.toContain('s3cr3t-in-url');
    expect(result.stderr).not.toContain('admin:');
    const malformed = await cli(['sync', '--source', 'jira'], {
      DATABASE_URL: database.url,
      JIRA_BASE_URL: 'ftp://admin:s3cr3t-in-url@acme.atlassian.net',
      JIRA_EMAIL: 'ops@example.com',
      JIRA_API_TOKEN: 'jira-token-cli-77',
    });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('JIRA_BASE_URL must be an http(s) URL');
    expect(malformed.stderr).not.toContain('s3cr3t-in-url');
  });

  it('a sync refused by PagerDuty logs and prints neither its token nor its webhook secret', async () => {
    const tokenFile = path.join(directory, 'pd-token');
    await writeFile(tokenFile, 'pd-token-from-file-4e1a\n');
    // PagerDuty refusing the token, as it answers a revoked one.
    const seen: string[] = [];
    const refusing = createServer((request, response) => {
      seen.push(String(request.headers.authorization));
      response.writeHead(401, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'Unauthorized', code: 2006 } }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const result = await cli(['sync', '--source', 'pagerduty'], {
        DATABASE_URL: database.url,
        PAGERDUTY_TOKEN_FILE: tokenFile,
        PAGERDUTY_WEBHOOK_SECRET: 'pd-whsec-cli-9f3b',
        PAGERDUTY_API_URL: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`,
      });
      expect(result.code).toBe(1);
      expect(seen[0]).toContain('pd-token-from-file-4e1a');
      expect(result.stderr).toContain('PAGERDUTY_TOKEN');
      expect(result.stderr).not.toContain('pd-token-from-file-4e1a');
      expect(result.stderr).not.toContain('pd-whsec-cli-9f3b');
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
