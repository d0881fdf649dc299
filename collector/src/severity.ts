import type { Severity } from './config.ts';

export interface SeverityRules {
  /** Raw priority/severity name (any case) to severity, applied before the default rules. */
  map: Record<string, Exclude<Severity, 'UNKNOWN'>>;
  /** Urgency to severity, used only when an incident has no priority. */
  fromUrgency: Record<string, Exclude<Severity, 'UNKNOWN'>>;
}

const NUMBERED = /^(?:p|sev|sev-|sev |severity )(\d+)$/;

const NAMED: Record<string, Severity> = {
  critical: 'SEV1',
  highest: 'SEV1',
  high: 'SEV2',
  medium: 'SEV3',
  low: 'SEV4',
  lowest: 'SEV4',
};

/**
 * docs/metrics.md §4: the configured map first, then `P<n>`, `SEV<n>`,
 * `SEV-<n>`, `Sev <n>`, `Severity <n>` and Jira's named priorities; anything
 * else is UNKNOWN, never guessed.
 */
export function normaliseSeverity(
  priority: string | null | undefined,
  urgency: string | null | undefined,
  rules: SeverityRules
): Severity {
  const name = priority?.trim();
  if (name) {
    const lower = name.toLowerCase();
    for (const [raw, severity] of Object.entries(rules.map)) {
      if (raw.trim().toLowerCase() === lower) {
        return severity;
      }
    }
    const numbered = NUMBERED.exec(lower);
    if (numbered) {
      const level = Number(numbered[1]);
      return level >= 1 ? (`SEV${Math.min(level, 4)}` as Severity) : 'UNKNOWN';
    }
    return NAMED[lower] ?? 'UNKNOWN';
  }
  const urgencyName = urgency?.trim().toLowerCase();
  if (urgencyName) {
    for (const [raw, severity] of Object.entries(rules.fromUrgency)) {
      if (raw.trim().toLowerCase() === urgencyName) {
        return severity;
      }
    }
  }
  return 'UNKNOWN';
}
