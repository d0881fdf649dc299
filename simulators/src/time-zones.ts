/** Wall-clock times in a zone and back, as Jira and PagerDuty Analytics render and read them. */

/** Minutes east of UTC of `zone` at the instant `ms`. */
export function zoneOffsetMinutes(zone: string, ms: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(ms))
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) {
    return 0;
  }
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/**
 * The instant a wall-clock time names in `zone`. In the repeated hour of a
 * DST change the earlier instant is taken, as java.time does by default.
 */
export function zonedWallTimeToInstant(wallAsUtcMs: number, zone: string): number {
  const offsetBefore = zoneOffsetMinutes(zone, wallAsUtcMs - 14 * 3_600_000);
  const offsetAfter = zoneOffsetMinutes(zone, wallAsUtcMs + 14 * 3_600_000);
  const candidates = [...new Set([offsetBefore, offsetAfter])]
    .map((offset) => wallAsUtcMs - offset * 60_000)
    .filter((instant) => zoneOffsetMinutes(zone, instant) * 60_000 === wallAsUtcMs - instant)
    .sort((a, b) => a - b);
  // In a gap (spring forward) no candidate fits: java.time moves the time forward by the gap.
  return candidates[0] ?? wallAsUtcMs - offsetBefore * 60_000;
}
