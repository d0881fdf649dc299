import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from './support/smtp.ts';

const AS_OF = '2026-11-22T09:00:00Z';
const PASSWORD = 'crash-test-smtp-pw-91c2';
const RECIPIENTS = ['first@example.com', 'second@example.com', 'third@example.com'];
const DELIVER = ['deliver', '--period', 'month', '--date', '2026-10', '--as-of', AS_OF];

let database: TestDatabase;
let smtp: LoopbackSmtp;
let env: NodeJS.ProcessEnv;

async function cli(args: string[]) {
  return runCli(args, env);
}

/** How many messages each recipient has received. */
function receivedBy(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(RECIPIENTS.map((recipient) => [recipient, 0]));
  for (const mail of smtp.received) {
    for (const to of mail.to) {
      counts[to] = (counts[to] ?? 0) + 1;
    }
  }
  return counts;
}

async function logRows() {
  return database.db
    .selectFrom('delivery_log')
    .innerJoin('delivery_runs', 'delivery_runs.id', 'delivery_log.run_id')
    .select(['run_id', 'trigger', 'recipient', 'status', 'tries', 'finished_at'])
    .orderBy('run_id')
    .orderBy('position')
    .execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startLoopbackSmtp({ user: 'lens', password: PASSWORD });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-crash-'));
  const configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, `timezone: UTC\ndelivery:\n  - report: month\n    email: [${RECIPIENTS.join(', ')}]\n`);
  env = {
    ...process.env,
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    LOG_LEVEL: 'warn',
    SMTP_URL: smtp.url('lens', PASSWORD),
    SMTP_FROM: 'reports@example.com',
  };
  await syncSimulatedPagerDuty(database.db, {
    seed: 9,
    start: new Date('2026-09-01T00:00:00Z'),
    end: new Date('2026-11-10T00:00:00Z'),
    incidents: 120,
  });
});

afterAll(async () => {
  await smtp.close();
  await database.destroy();
});

describe('incident-lens deliver', () => {
  it('--dry-run says what would go to whom, sends nothing and records nothing', async () => {
    const result = await cli([...DELIVER, '--dry-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'would deliver the month report 2026-10 (UTC), figures as of 2026-11-22T09:00:00Z, the published (frozen) report'
    );
    for (const recipient of RECIPIENTS) {
      expect(result.stdout).toMatch(
        new RegExp(
          `e-mail to ${recipient} from reports@example.com: "Monthly incident report 2026-10: ack SLA [\\d.]+%, resolve SLA [\\d.]+%"; HTML \\d+ kB, 6 PNG charts \\d+ kB, incidents-2026-10.csv with \\d+ incidents`
        )
      );
    }
    expect(result.stdout).toContain('nothing was sent (--dry-run)');
    expect(smtp.received).toEqual([]);
    expect(await logRows()).toEqual([]);
    expect(await database.db.selectFrom('published_reports').select('period_label').execute()).toEqual([]);
  });

  it('killed (SIGKILL) while the second recipient is being sent, ends after a restart with every recipient served once', async () => {
    smtp.answerRcpt = (address) => (address === 'second@example.com' ? 'stall' : 'accept');
    const child = spawn(process.execPath, [CLI, ...DELIVER], { env, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal))
    );
    expect(await smtp.stalled).toBe('second@example.com');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    expect(receivedBy()).toEqual({ 'first@example.com': 1, 'second@example.com': 0, 'third@example.com': 0 });
    const interrupted = await logRows();
    expect(interrupted.map((row) => [row.recipient, row.status, row.tries])).toEqual([
      ['first@example.com', 'sent', 1],
      ['second@example.com', 'sending', 1],
      ['third@example.com', 'pending', 0],
    ]);
    expect(interrupted[0]!.finished_at).toBeNull();

    // The restart meets a transient refusal (451) of the third recipient once: retried, not lost.
    let refused = false;
    smtp.answerRcpt = (address) => {
      if (address !== 'third@example.com' || refused) {
        return 'accept';
      }
      refused = true;
      return { code: 451, message: '4.3.0 try again later' };
    };
    const restart = await cli(DELIVER);
    expect(restart.stdout).toContain('resumed the unfinished delivery of the month 2026-10 (UTC) report');
    expect(restart.stderr).toContain('will be retried: SMTP server answered 451 4.3.0 try again later');
    expect(restart.code).toBe(0);
    expect(receivedBy()).toEqual({ 'first@example.com': 1, 'second@example.com': 1, 'third@example.com': 1 });
    const finished = await logRows();
    expect(finished.map((row) => [row.run_id, row.trigger, row.recipient, row.status, row.tries])).toEqual([
      [interrupted[0]!.run_id, 'resend', 'first@example.com', 'sent', 1],
      [interrupted[0]!.run_id, 'resend', 'second@example.com', 'sent', 2],
      [interrupted[0]!.run_id, 'resend', 'third@example.com', 'sent', 2],
    ]);
    expect(finished.every((row) => row.finished_at !== null)).toBe(true);
    // Message-IDs are made from the run and the recipient, so that a repeat after a crash carries the same one.
    const ids = smtp.received.map((mail) => /^Message-ID: (.+)$/im.exec(mail.raw.toString('latin1'))![1]!.trim());
    expect(
      ids.every((id) => new RegExp(`^<report-run-${interrupted[0]!.run_id}\\.[0-9a-f]{16}@example\\.com>$`).test(id))
    ).toBe(true);
    expect(new Set(ids).size).toBe(3);
    // Two CLI runs and a 2 s SMTP retry: on a loaded two-core machine this passed the default 60 s.
  }, 180_000);

  it('resends on purpose once nothing is unfinished: a new run, every recipient again', async () => {
    const before = (await logRows()).length;
    const result = await cli(DELIVER);
    expect(result.code).toBe(0);
    expect(receivedBy()).toEqual({ 'first@example.com': 2, 'second@example.com': 2, 'third@example.com': 2 });
    const rows = await logRows();
    expect(rows.length).toBe(before + 3);
    expect(new Set(rows.map((row) => row.run_id)).size).toBe(2);
    expect(rows.slice(before).every((row) => row.status === 'sent' && row.trigger === 'resend')).toBe(true);
  });

  it('exits 1 and records the reason when the server refuses a recipient for good (550)', async () => {
    smtp.answerRcpt = (address) =>
      address === 'third@example.com' ? { code: 550, message: '5.1.1 no such mailbox' } : 'accept';
    const result = await cli(DELIVER);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not be delivered to third@example.com');
    expect(result.stdout).toContain('email third@example.com: failed (SMTP server answered 550 5.1.1 no such mailbox)');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    const last = (await logRows()).slice(-3);
    expect(last.map((row) => [row.recipient, row.status, row.tries])).toEqual([
      ['first@example.com', 'sent', 1],
      ['second@example.com', 'sent', 1],
      ['third@example.com', 'failed', 1],
    ]);
  });
});
