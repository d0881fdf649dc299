import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import type { EmailContent, SlackMessage } from './content.ts';

/** A refusal that a retry would get again (SMTP 5xx, Slack 4xx other than 429): recorded as failed. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

/** Worth another try: SMTP 4xx, Slack 429 or 5xx, no answer. */
export class TransientFailure extends Error {
  override readonly name = 'TransientFailure';
  constructor(
    message: string,
    /** The wait the server asked for (Retry-After), if any. */
    readonly retryAfterMs?: number
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  tries: number;
  /** Wait after the first failed try; doubled after each further one. */
  baseDelayMs: number;
  /** Longest wait, also the cap on a Retry-After. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 5, baseDelayMs: 2000, maxDelayMs: 60_000 };

/**
 * Runs `attempt` until it succeeds, fails for good, or runs out of tries;
 * between tries waits with exponential backoff, or as long as the server
 * asked. Throws PermanentFailure when giving up.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (tryNumber: number) => Promise<T>,
  onRetry: (failure: TransientFailure, waitMs: number) => void,
  signal?: AbortSignal
): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (!(error instanceof TransientFailure)) {
        throw error;
      }
      if (tryNumber >= policy.tries) {
        throw new PermanentFailure(`gave up after ${tryNumber} tries: ${error.message}`);
      }
      const backoff = policy.baseDelayMs * 2 ** (tryNumber - 1);
      const waitMs = Math.min(policy.maxDelayMs, error.retryAfterMs ?? backoff);
      onRetry(error, waitMs);
      await sleep(waitMs, undefined, { signal });
    }
  }
}

export interface Mailer {
  /** One message to one recipient; the Message-ID is the caller's, the same on a resumed send. */
  send(to: string, content: EmailContent, messageId: string): Promise<{ bytes: number }>;
  close(): void;
}

/** SMTP through nodemailer; errors are classified and their text built here, never from the URL. */
export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(to, content, messageId) {
      try {
        const info = await transport.sendMail({
          from,
          to,
          subject: content.subject,
          text: content.text,
          html: content.html,
          messageId,
          attachments: [
            ...content.images.map((image) => ({
              filename: image.filename,
              content: image.content,
              contentType: 'image/png',
              cid: image.cid,
              contentDisposition: 'inline' as const,
            })),
            { filename: content.csv.filename, content: content.csv.content, contentType: 'text/csv; charset=utf-8' },
          ],
        });
        return { bytes: info.messageSize };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close: () => transport.close(),
  };
}

interface SmtpErrorFields {
  code?: string;
  responseCode?: number;
  response?: string;
}

function classifySmtpError(error: unknown): Error {
  const { code, responseCode, response } = (error ?? {}) as SmtpErrorFields;
  if (responseCode !== undefined) {
    // The reply line starts with its code; without one, the code alone.
    const text = `SMTP server answered ${response ? response.split('\n')[0]!.slice(0, 200) : responseCode}`;
    // RFC 5321: 4yz is transient, 5yz permanent.
    return responseCode >= 400 && responseCode < 500 ? new TransientFailure(text) : new PermanentFailure(text);
  }
  if (code === 'EAUTH') {
    return new PermanentFailure('the SMTP server refused the credentials of SMTP_URL');
  }
  return new TransientFailure(`no usable answer from the SMTP server (${code ?? 'unknown error'})`);
}

const SLACK_TIMEOUT_MS = 15_000;

/** POSTs a message to an incoming webhook; the URL stays out of every error. */
export async function postToSlack(webhookUrl: string, message: SlackMessage): Promise<void> {
  let response: Response;
  try {
    response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new TransientFailure(`no answer from the Slack webhook (${cause?.code ?? (error as Error).name})`);
  }
  const body = (await response.text().catch(() => '')).slice(0, 200);
  if (response.ok) {
    return;
  }
  if (response.status === 429) {
    throw new TransientFailure('Slack answered 429 (rate limited)', retryAfterMs(response.headers.get('retry-after')));
  }
  const text = `Slack answered ${response.status}${body ? `: ${body}` : ''}`;
  throw response.status >= 500 ? new TransientFailure(text) : new PermanentFailure(text);
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) {
    return undefined;
  }
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000;
  }
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
