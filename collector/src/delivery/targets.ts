import type { Config } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { Granularity } from '@incident-lens/common/report';

/** Who a report goes to. A Slack recipient is named by the variable holding its webhook URL (a secret). */
export type Recipient = { channel: 'email'; address: string } | { channel: 'slack'; variable: string };

/** The name a recipient has in logs and in the delivery log: never a secret. */
export function recipientName(recipient: Recipient): string {
  return recipient.channel === 'email' ? recipient.address : recipient.variable;
}

/** Every configured recipient of a period's report, in configuration order, each once. */
export function recipientsFor(config: Pick<Config, 'delivery'>, granularity: Granularity): Recipient[] {
  const recipients = new Map<string, Recipient>();
  for (const target of config.delivery) {
    if (target.report !== granularity) {
      continue;
    }
    for (const address of target.email ?? []) {
      recipients.set(`email:${address.toLowerCase()}`, { channel: 'email', address });
    }
    if (target.slackWebhookEnv) {
      recipients.set(`slack:${target.slackWebhookEnv}`, { channel: 'slack', variable: target.slackWebhookEnv });
    }
  }
  return [...recipients.values()];
}

/** `incident-lens@host` or `Incident Lens <incident-lens@host>`; the default's host may be a bare machine name. */
function isSenderAddress(text: string): boolean {
  const bracketed = /^[^<>]*<([^<>]+)>$/.exec(text.trim());
  return /^[^\s@<>]+@[^\s@<>]+$/.test(bracketed ? bracketed[1]! : text.trim());
}

/**
 * Refuses (exit 2) a delivery configuration that could not send: e-mail
 * recipients without SMTP_URL, a webhook variable that is unset or holds no
 * URL. Messages name the variable, never its value.
 */
export function checkDeliveryConfig(config: Pick<Config, 'delivery' | 'deliveryEnv'>): void {
  const { smtpUrl, smtpFrom, slackWebhooks } = config.deliveryEnv;
  const wantsEmail = config.delivery.some((target) => (target.email?.length ?? 0) > 0);
  if (wantsEmail) {
    if (smtpUrl === undefined) {
      throw new UsageError(
        'delivery: e-mail recipients are configured but SMTP_URL is not set (smtp://user:pass@host:587 or smtps://...)'
      );
    }
    let protocol: string;
    try {
      protocol = new URL(smtpUrl).protocol;
    } catch {
      throw new UsageError(
        'SMTP_URL is not a URL: write it as smtp://user:pass@host:587 or smtps://user:pass@host:465'
      );
    }
    if (protocol !== 'smtp:' && protocol !== 'smtps:') {
      throw new UsageError(`SMTP_URL must start with smtp:// or smtps://, not ${protocol}//`);
    }
    if (!isSenderAddress(smtpFrom)) {
      throw new UsageError(`SMTP_FROM is not an e-mail address: '${smtpFrom}'`);
    }
  }
  config.delivery.forEach((target, index) => {
    const variable = target.slackWebhookEnv;
    if (variable === undefined) {
      return;
    }
    const url = slackWebhooks.get(variable);
    if (url === undefined) {
      throw new UsageError(
        `delivery.${index}.slackWebhookEnv names ${variable}, which is not set: set it (or ${variable}_FILE) to the Slack incoming-webhook URL`
      );
    }
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'https:' && protocol !== 'http:') {
      throw new UsageError(`${variable} does not hold an http(s) URL: set it to the Slack incoming-webhook URL`);
    }
  });
}

/** The secret texts that must never leave the process: redacted from every recorded or logged reason. */
export function deliverySecrets(config: Pick<Config, 'deliveryEnv'>): string[] {
  const secrets: string[] = [...config.deliveryEnv.slackWebhooks.values()];
  const smtpUrl = config.deliveryEnv.smtpUrl;
  if (smtpUrl !== undefined) {
    secrets.push(smtpUrl);
    try {
      const url = new URL(smtpUrl);
      if (url.password) {
        secrets.push(url.password, decodeURIComponent(url.password));
      }
    } catch {
      // checkDeliveryConfig refuses a malformed URL before anything is sent.
    }
  }
  return secrets.filter((secret) => secret.length >= 4);
}

export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    result = result.split(secret).join('***');
  }
  return result;
}
