/**
 * The small enumerations the column stores keep as numbers: statuses,
 * urgencies, priorities, log entry types, channels and agents.
 */

export const STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export const TRIGGERED = 0;
export const ACKNOWLEDGED = 1;
export const RESOLVED = 2;

export const URGENCIES = ['high', 'low'] as const;
export const PRIORITY_NAMES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
export const PRIORITY_COLORS = ['a8171c', 'eb6016', 'f9b406', '75bd39', '4f9fd6'];
export const PRIORITY_DESCRIPTIONS = [
  'Critical: customer-facing outage',
  'High: major degradation',
  'Moderate: partial degradation',
  'Low: minor issue',
  'Informational',
];

// Log entry types, by code. priority_change_log_entry is what PagerDuty sends
// when a priority changes, although the published description does not list it.
export const LOG_ENTRY_TYPES = [
  'trigger_log_entry',
  'assign_log_entry',
  'notify_log_entry',
  'acknowledge_log_entry',
  'unacknowledge_log_entry',
  'escalate_log_entry',
  'annotate_log_entry',
  'resolve_log_entry',
  'priority_change_log_entry',
] as const;
export const TRIGGER = 0;
export const ASSIGN = 1;
export const NOTIFY = 2;
export const ACKNOWLEDGE = 3;
export const UNACKNOWLEDGE = 4;
export const ESCALATE = 5;
export const ANNOTATE = 6;
export const RESOLVE = 7;
export const PRIORITY_CHANGE = 8;

// Channels, by code; the rendered object depends on the entry type too.
export const CHANNEL_TYPES = ['api', 'auto', 'timeout', 'website', 'web_trigger', 'note', 'notification'] as const;
export const CH_API = 0;
export const CH_AUTO = 1;
export const CH_TIMEOUT = 2;
export const CH_WEBSITE = 3;
export const CH_WEB_TRIGGER = 4;
export const CH_NOTE = 5;
export const CH_NOTIFICATION = 6;

export const NOTIFICATION_TYPES = ['push_notification', 'sms_notification', 'phone_notification', 'email_notification'];
export const NOTIFICATION_WORDS = ['push notification', 'SMS', 'phone', 'email'];

// An agent is packed as kind * 2^20 + index into that kind's catalog.
export const AGENT_SERVICE = 0;
export const AGENT_USER = 1;
/** The Events API integration of the service at that index. */
export const AGENT_INTEGRATION = 2;
export const AGENT_KIND_SPAN = 1 << 20;

export function serviceAgent(service: number): number {
  return AGENT_SERVICE * AGENT_KIND_SPAN + service;
}

export function userAgent(user: number): number {
  return AGENT_USER * AGENT_KIND_SPAN + user;
}

export function integrationAgent(service: number): number {
  return AGENT_INTEGRATION * AGENT_KIND_SPAN + service;
}
