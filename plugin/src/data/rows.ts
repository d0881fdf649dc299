import { FieldType, type DataFrame } from '@grafana/data';

export type CellValue = string | number | boolean | null;
export type Row = Record<string, CellValue>;

/**
 * A frame as plain rows keyed by column name; time columns stay epoch
 * milliseconds, so that a component never parses dates from strings.
 */
export function frameToRows(frame: DataFrame): Row[] {
  const rows: Row[] = [];
  for (let index = 0; index < frame.length; index++) {
    const row: Row = {};
    for (const field of frame.fields) {
      const value = field.values[index];
      row[field.name] =
        value === undefined ? null : field.type === FieldType.time && value !== null ? Number(value) : value;
    }
    rows.push(row);
  }
  return rows;
}

export function numberOrNull(value: CellValue | undefined): number | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

export function textOrNull(value: CellValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
