/** Exit codes of every command (README.md): 0 ok, 1 runtime failure, 2 usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad usage or configuration: the message says what to fix; exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A source refused our credentials: the message names the variable to fix. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An API answered in a way that retrying cannot fix (4xx other than 429, or retries exhausted). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown }
  ) {
    super(message, options);
  }
}

/** The run was asked to stop (SIGINT/SIGTERM); work committed so far stays. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor() {
    super('interrupted before the sync finished; the next sync resumes from the last checkpoint');
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
