import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase } from '../../collector/src/db/database.ts';
import { startEmbeddedPostgres } from '../../collector/src/db/embedded.ts';
import { createLogger } from '../../collector/src/logger.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(REPO_ROOT, 'collector/bin/incident-lens.js');

/** A throwaway database: DATABASE_URL's server if set, else a fresh embedded one. */
export async function benchDatabase(name: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const admin = new URL(process.env.DATABASE_URL);
    admin.pathname = '/postgres';
    await ensureDatabase(admin.toString(), name);
    admin.pathname = `/${name}`;
    return { url: admin.toString(), stop: async () => undefined };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-bench-'));
  await chmod(dataDir, 0o755);
  const server = await startEmbeddedPostgres(dataDir, createLogger('warn'));
  await ensureDatabase(server.url('postgres'), name);
  return {
    url: server.url(name),
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ChildRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size of the child, from /proc (VmHWM), in bytes. */
  peakRssBytes: number;
}

/** Runs the CLI in a child process and samples its peak RSS. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let peakKb = 0;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) {
        peakKb = Math.max(peakKb, Number(match[1]));
      }
    } catch {
      // The child has exited.
    }
  };
  const timer = setInterval(sample, 50);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  return { exitCode, stdout, stderr, wallMs: performance.now() - started, peakRssBytes: peakKb * 1024 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function figure(name: string, value: string, target?: string): void {
  console.log(`  ${name.padEnd(44)} ${value.padStart(14)}${target ? `   (target ${target})` : ''}`);
}
