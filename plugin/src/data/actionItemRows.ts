import { numberOrNull, textOrNull, type Row } from './rows';

export interface ActionItemRow {
  key: string;
  issueKey: string | null;
  title: string;
  owner: string | null;
  team: string | null;
  status: string;
  /** YYYY-MM-DD, a calendar day; its deadline is the end of that day in the report zone. */
  dueDate: string | null;
  /** As SQL classified it at the query's as-of instant. */
  overdue: boolean;
  done: boolean;
  completedAt: number | null;
  url: string | null;
  incidentLabel: string | null;
  incidentUrl: string | null;
  postmortemLabel: string | null;
  postmortemUrl: string | null;
}

function dueDateText(value: Row[string] | undefined): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  // Grafana sends a date column as a time at UTC midnight.
  return typeof value === 'number' ? new Date(value).toISOString().slice(0, 10) : String(value).slice(0, 10);
}

export function toActionItemRow(row: Row, index: number): ActionItemRow {
  return {
    key: textOrNull(row.id) ?? textOrNull(row.external_id) ?? String(index),
    issueKey: textOrNull(row.external_id),
    title: textOrNull(row.title) ?? '(untitled)',
    owner: textOrNull(row.owner),
    team: textOrNull(row.team),
    status: textOrNull(row.status) ?? 'unknown',
    dueDate: dueDateText(row.due_date),
    overdue: row.overdue === true,
    done: row.done === true,
    completedAt: numberOrNull(row.completed_at),
    url: textOrNull(row.html_url),
    incidentLabel: textOrNull(row.incident_label),
    incidentUrl: textOrNull(row.incident_url),
    postmortemLabel: textOrNull(row.postmortem_label),
    postmortemUrl: textOrNull(row.postmortem_url),
  };
}
