import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

// Nothing listens here: a command that got as far as the database would fail with exit 1, not 2.
const UNREACHABLE_DATABASE = 'postgres://nobody:nothing@127.0.0.1:1/none';

let directory: string;

async function cli(args: string[], yaml: string, env: NodeJS.ProcessEnv = {}) {
  const configPath = path.join(directory, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(configPath, yaml);
  return runCli(args, {
    DATABASE_URL: UNREACHABLE_DATABASE,
    INCIDENT_LENS_CONFIG: configPath,
    PAGERDUTY_TOKEN: 'token',
    ...env,
  });
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-delivery-config-'));
});

const COMMANDS = [
  ['deliver', '--period', 'month', '--date', '2026-10', '--dry-run'],
  ['serve', '--port', '0'],
];

describe.each(COMMANDS)('%s refuses a delivery configuration that cannot work (exit 2, naming it)', (...command) => {
  it('an unknown period', async () => {
    const result = await cli(command, 'delivery:\n  - report: quarter\n    email: [vp@example.com]\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("delivery.0.report: unknown period 'quarter': use day, week or month");
  });

  it('a malformed address', async () => {
    const result = await cli(command, 'delivery:\n  - report: month\n    email: [vp@example.com, "vp at example"]\n', {
      SMTP_URL: 'smtp://127.0.0.1:25',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("delivery.0.email.1: not an e-mail address: 'vp at example'");
  });

  it('an unset webhook variable', async () => {
    const result = await cli(command, 'delivery:\n  - report: month\n    slackWebhookEnv: SLACK_LEADERSHIP_URL\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delivery.0.slackWebhookEnv names SLACK_LEADERSHIP_URL, which is not set');
  });

  it('e-mail recipients without SMTP_URL', async () => {
    const result = await cli(command, 'delivery:\n  - report: month\n    email: [vp@example.com]\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('e-mail recipients are configured but SMTP_URL is not set');
  });

  it('an SMTP_URL that is not smtp(s), without echoing its credentials', async () => {
    const result = await cli(command, 'delivery:\n  - report: month\n    email: [vp@example.com]\n', {
      SMTP_URL: 'https://mailer:hunter2-secret@mail.example.com',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SMTP_URL must start with smtp:// or smtps://');
    expect(result.stderr).not.toContain('hunter2-secret');
  });

  it('a recipient-less entry', async () => {
    const result = await cli(command, 'delivery:\n  - report: week\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delivery.0: names no recipient: add email or slackWebhookEnv');
  });
});

it('deliver refuses a period no delivery: entry sends (exit 2)', async () => {
  const result = await cli(
    ['deliver', '--period', 'week', '--date', '2026-11-20'],
    'delivery:\n  - report: month\n    email: [vp@example.com]\n',
    {
      SMTP_URL: 'smtp://127.0.0.1:25',
    }
  );
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('no delivery: entry sends the week report');
});
