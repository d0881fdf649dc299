import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/** The command a user runs: the package's bin, as `npx incident-lens` starts it. */
export const CLI = path.resolve(import.meta.dirname, '../../collector/bin/incident-lens.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const execute = promisify(execFile);

/**
 * Runs the command line in a process of its own with exactly `env` (and
 * PATH), and settles with its exit code and output: a non-zero exit is a
 * result to assert on, not a thrown error.
 */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, ...env },
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
