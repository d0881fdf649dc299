import { pino, type Logger } from 'pino';

export type { Logger };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') {
    return 'info';
  }
  if ((LEVELS as readonly string[]).includes(value)) {
    return value as LogLevel;
  }
  throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}: got '${value}'`);
}

/** Secret values this process read (tokens, webhook secrets, passwords of URLs), longest first. */
let secrets: string[] = [];

/**
 * Marks a value as secret: from now on it is scrubbed from every log line
 * and every error message the command line prints. A URL's password is
 * registered on its own as well, in the spellings it may be printed in.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < 4) {
    return;
  }
  const spellings = new Set([value, JSON.stringify(value).slice(1, -1)]);
  try {
    const { password } = new URL(value);
    if (password.length >= 4) {
      spellings.add(password);
      spellings.add(decodeURIComponent(password));
    }
  } catch {
    // Not a URL: the value itself is the secret.
  }
  secrets = [...new Set([...secrets, ...spellings])].sort((a, b) => b.length - a.length);
}

// scheme://user:password@ (any scheme), as far as the @ of the authority.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"]*:[^\s/?#@'"]*@/gi;

/** The text without registered secrets and without credentials written into URLs. */
export function redactSecrets(text: string): string {
  let clean = text;
  for (const secret of secrets) {
    if (clean.includes(secret)) {
      clean = clean.split(secret).join('[redacted]');
    }
  }
  return clean.replace(URL_CREDENTIALS, '$1[redacted]@');
}

/**
 * JSON lines on stderr (stdout carries reports). Credentials are redacted by
 * path, and every line is scrubbed of registered secrets and of credentials
 * inside URLs, as a second line of defence: the code never logs them on purpose.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { service: 'incident-lens' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'token',
          'apiToken',
          'secret',
          'webhookSecret',
          'databaseUrl',
          'smtpUrl',
          'password',
          'authorization',
          'headers.authorization',
          'headers.Authorization',
          '*.token',
          '*.apiToken',
          '*.secret',
          '*.webhookSecret',
          '*.databaseUrl',
          '*.smtpUrl',
          '*.password',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: redactSecrets },
    },
    destination as pino.DestinationStream
  );
}
