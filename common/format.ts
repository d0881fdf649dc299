// How figures read to people, the same in the CLI's reports and the plugin.

/**
 * Seconds as a short duration with at most two units, the smaller left out
 * when it is zero: 45s, 12m 30s, 1h, 1h 30m, 2d 7h. Absent values are a dash.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '–';
  }
  const total = Math.round(seconds);
  const [unit, size, subUnit, subSize] =
    total < 60
      ? ['s', 1, '', 1]
      : total < 3600
        ? ['m', 60, 's', 1]
        : total < 86_400
          ? ['h', 3600, 'm', 60]
          : ['d', 86_400, 'h', 3600];
  const whole = Math.floor(total / size);
  const rest = Math.floor((total % size) / subSize);
  return rest === 0 || subUnit === '' ? `${whole}${unit}` : `${whole}${unit} ${rest}${subUnit}`;
}

/** A fraction in [0, 1] as a percentage with one decimal, 0.9268 -> "92.7%"; absent is a dash, never 0%. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) {
    return '–';
  }
  return `${(rate * 100).toFixed(1)}%`;
}
