import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  /** RCPT TO addresses of the transaction. */
  to: string[];
  raw: Buffer;
}

/** What the server answers to a RCPT TO: accept, a reply code, or never answer (a stalled server). */
export type RcptAnswer = 'accept' | 'stall' | { code: number; message: string };

export interface LoopbackSmtp {
  url(user: string, password: string): string;
  received: ReceivedMail[];
  /** Decides the answer to each RCPT TO; default accept. */
  answerRcpt: (address: string) => RcptAnswer;
  /** Resolves with the address of the first RCPT TO left unanswered. */
  stalled: Promise<string>;
  logins: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server (the smtp-server library) on loopback that requires a
 * login and keeps every message it accepts. No TLS: the test's SMTP_URL is
 * smtp:// and nodemailer only upgrades when STARTTLS is offered.
 */
export async function startLoopbackSmtp(credentials: { user: string; password: string }): Promise<LoopbackSmtp> {
  let onStall: (address: string) => void = () => undefined;
  const state: LoopbackSmtp = {
    url: (user, password) => `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    received: [],
    answerRcpt: () => 'accept',
    stalled: new Promise<string>((resolve) => (onStall = resolve)),
    logins: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.password) {
        state.logins.push(auth.username ?? '');
        callback(null, { user: auth.username });
      } else {
        callback(new Error('535 authentication failed'));
      }
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const answer = state.answerRcpt(address.address);
      if (answer === 'stall') {
        onStall(address.address);
        return;
      }
      if (answer === 'accept') {
        return callback();
      }
      const error = new Error(answer.message) as Error & { responseCode: number };
      error.responseCode = answer.code;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  // A client killed mid-transaction resets its connection: expected here, not a test failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return state;
}
