import { pino, type Logger } from 'pino';

export type { Logger };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  if ((LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}: got '${value}'`);
}

/**
 * JSON lines on stderr (stdout carries reports). Credentials are redacted by
 * path as a second line of defence: the code never logs them on purpose.
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
          'password',
          'authorization',
          'headers.authorization',
          'headers.Authorization',
          '*.token',
          '*.apiToken',
          '*.secret',
          '*.password',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream,
  );
}
