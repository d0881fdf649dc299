import { UsageError } from '../../errors.ts';
import type { JiraFieldDetails } from './api-types.ts';

/**
 * Which of a site's fields the mapper reads, decided from GET /field by id
 * and schema only: display names are translated into the account's language
 * ("Time to first response" is "Zeit bis zur ersten Antwort" on a German
 * profile), ids and schema types never are.
 */

/** The custom field type of every Jira Service Management SLA. */
export const SLA_FIELD_TYPE = 'com.atlassian.servicedesk:sd-sla-field';

/** System fields without which no issue can be mapped (the mapper refuses an issue lacking one). */
const REQUIRED_SYSTEM_FIELDS = ['summary', 'status', 'created'] as const;

/** `jira.fields` of the configuration: field ids, null where unset. */
export interface JiraFieldSettings {
  /** `priority` or a custom field id holding the severity. */
  severity: string;
  rootCause: string | null;
  pagerdutyIncident: string | null;
  /** The first-response SLA field; unset: the site's only SLA field, if it has exactly one. */
  firstResponseSla?: string | null;
}

export interface SiteFields {
  /** The configured fields, each as the site's field id. */
  fields: { severity: string; rootCause: string | null; pagerdutyIncident: string | null };
  firstResponseSlaField: string | null;
  /** What discovery could not decide on its own, for the log. */
  notes: string[];
}

/** A field by its id, its key (`customfield_10042` both) or, for system fields, its schema name. */
function byId(list: readonly JiraFieldDetails[], wanted: string): JiraFieldDetails | undefined {
  return list.find((field) => field.id === wanted || field.key === wanted || field.schema?.system === wanted);
}

/**
 * Resolves the configured field ids against the site's field list and finds
 * the first-response SLA field by its type. A configured id always wins; a
 * configured field the site lacks, or a required one it does not list, is a
 * UsageError naming what to set.
 */
export function resolveJiraFields(list: unknown, settings: JiraFieldSettings, site: string): SiteFields {
  const fields = (Array.isArray(list) ? list : []).filter(
    (field): field is JiraFieldDetails => typeof field === 'object' && field !== null && typeof field.id === 'string'
  );
  for (const id of REQUIRED_SYSTEM_FIELDS) {
    if (!byId(fields, id)) {
      throw new UsageError(
        `the Jira site ${site} lists no '${id}' field (GET /rest/api/3/field): no issue can be read without it; check that the account may browse the projects`
      );
    }
  }
  const configured = (setting: string, id: string | null, hint: string): JiraFieldDetails | undefined => {
    if (id === null) {
      return undefined;
    }
    const field = byId(fields, id);
    if (!field) {
      throw new UsageError(
        `${setting} names the Jira field '${id}', which ${site} does not have or the account cannot see: ${hint}`
      );
    }
    return field;
  };
  const customHint = 'use a field id such as customfield_10042';
  const severity = configured(
    'jira.fields.severity',
    settings.severity,
    settings.severity === 'priority'
      ? 'priorities are off on this site; set it to the custom field id that holds the severity'
      : customHint
  )!;
  const rootCause = configured('jira.fields.rootCause', settings.rootCause, customHint);
  const pagerdutyIncident = configured('jira.fields.pagerdutyIncident', settings.pagerdutyIncident, customHint);

  const notes: string[] = [];
  let sla = configured('jira.fields.firstResponseSla', settings.firstResponseSla ?? null, customHint);
  if (sla && sla.schema?.custom !== SLA_FIELD_TYPE) {
    throw new UsageError(
      `jira.fields.firstResponseSla names '${settings.firstResponseSla}', which is not a Jira Service Management SLA field (its type is ${sla.schema?.custom ?? sla.schema?.type ?? 'unknown'})`
    );
  }
  if (!sla) {
    const slas = fields.filter((field) => field.schema?.custom === SLA_FIELD_TYPE);
    if (slas.length === 1) {
      sla = slas[0];
    } else if (slas.length > 1) {
      // Which SLA measures the first response only its name says, and names are translated: ask.
      notes.push(
        `the site has ${slas.length} SLA fields (${slas.map((field) => field.id).join(', ')}); set jira.fields.firstResponseSla to the first-response one. Until then a Jira incident's first response is its first move out of a new status`
      );
    }
  }
  return {
    fields: {
      severity: severity.id!,
      rootCause: rootCause?.id ?? null,
      pagerdutyIncident: pagerdutyIncident?.id ?? null,
    },
    firstResponseSlaField: sla?.id ?? null,
    notes,
  };
}
