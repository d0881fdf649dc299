import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { figure, median, runCli } from './support.ts';

/**
 * Issue 14: the command line as a person waits for it. `demo` fills an
 * embedded database; then `report` and `--help` run as whole processes
 * (the compiled bin, node started fresh each time), median of BENCH_RUNS.
 */
export async function benchCli(runs = Number(process.env.BENCH_RUNS ?? 7)): Promise<void> {
  console.log(`\nCommand line: whole processes, median of ${runs} runs`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-bench-cli-'));
  // As root the embedded server runs as `postgres`, which must enter the directory.
  await chmod(dataDir, 0o755);
  const env = { INCIDENT_LENS_DATA_DIR: dataDir, INCIDENT_LENS_CONFIG: '/dev/null', DATABASE_URL: undefined };
  try {
    const demo = await runCli(['demo'], { ...env, LOG_LEVEL: 'warn' });
    if (demo.exitCode !== 0) {
      throw new Error(`demo failed (${demo.exitCode}): ${demo.stderr.slice(-2000)}`);
    }
    figure('demo (fills the database)', `${(demo.wallMs / 1000).toFixed(1)} s`);

    const help = await repeat(runs, () => runCli(['--help'], env));
    figure('incident-lens --help', seconds(median(help.map((run) => run.wallMs))));

    const reportArgs = ['report', '--period', 'month', '--date', '2026-10', '--format', 'json'];
    const reports = await repeat(runs, () => runCli(reportArgs, { ...env, LOG_LEVEL: 'warn' }));
    figure('report --period month --format json', seconds(median(reports.map((run) => run.wallMs))), '< 1.0 s');

    // The embedded server's start, from the process's start to its "started" log line.
    const starts = await repeat(runs, async () => {
      const spawned = Date.now();
      const run = await runCli(reportArgs, { ...env, LOG_LEVEL: 'debug' });
      const line = run.stderr.split('\n').find((text) => text.includes('"embedded PostgreSQL started"'));
      if (!line) {
        throw new Error('report logged no "embedded PostgreSQL started" line');
      }
      return { ...run, wallMs: Date.parse((JSON.parse(line) as { time: string }).time) - spawned };
    });
    figure('report: process start to embedded PostgreSQL up', seconds(median(starts.map((run) => run.wallMs))));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function repeat<T extends { exitCode: number | null; stderr: string }>(
  runs: number,
  once: () => Promise<T>
): Promise<T[]> {
  const results: T[] = [];
  for (let index = 0; index < runs; index += 1) {
    const result = await once();
    if (result.exitCode !== 0) {
      throw new Error(`command failed (${result.exitCode}): ${result.stderr.slice(-2000)}`);
    }
    results.push(result);
  }
  return results;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
