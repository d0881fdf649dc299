import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../collector/src/db/embedded.ts';
import { createLogger } from '../../collector/src/logger.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the `postgres` database of the run's server. */
    postgresAdminUrl: string;
  }
}

let server: EmbeddedServer | undefined;
let dataDir: string | undefined;

/** One real PostgreSQL per test run; each test file makes its own database on it. */
export async function setup(project: TestProject): Promise<void> {
  // The CLI tests run collector/bin, which runs the compiled collector: compile the sources under test.
  await promisify(execFile)(process.execPath, [path.resolve(import.meta.dirname, '../../collector/scripts/build.mjs')]);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-test-'));
  // mkdtemp makes the directory 0700; as root the server runs as `postgres`, which must enter it.
  await chmod(dataDir, 0o755);
  server = await startEmbeddedPostgres(dataDir, createLogger('warn'));
  project.provide('postgresAdminUrl', server.url('postgres'));
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dataDir) {
    await rm(dataDir, { recursive: true, force: true });
  }
}
