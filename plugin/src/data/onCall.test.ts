import { describe, expect, it } from 'vitest';
import { hourOfWeekGrid, noisiestServices, toOnCallFigures } from './onCall';

describe('on-call rows', () => {
  it('places hour-of-week cells by weekday and hour, Monday first', () => {
    const rows = [
      { dimension: 'hour_of_week', dimension_key: '0', interruptions: 2 },
      { dimension: 'hour_of_week', dimension_key: '167', interruptions: 5 },
      { dimension: 'hour_of_week', dimension_key: '31', interruptions: 1 },
      { dimension: 'total', dimension_key: null, interruptions: 8 },
    ].map(toOnCallFigures);
    const grid = hourOfWeekGrid(rows);
    expect(grid[0]![0]).toBe(2);
    expect(grid[6]![23]).toBe(5);
    // 31 = Tuesday 07:00.
    expect(grid[1]![7]).toBe(1);
    expect(grid.flat().reduce((sum, value) => sum + value, 0)).toBe(8);
  });

  it('orders services by auto-resolved plus transient, then incidents, then name', () => {
    const rows = [
      { dimension: 'service', dimension_label: 'web', incidents: 9, auto_resolved: 1, transient: 0 },
      { dimension: 'service', dimension_label: 'api', incidents: 3, auto_resolved: 2, transient: 1 },
      { dimension: 'service', dimension_label: 'batch', incidents: 4, auto_resolved: 0, transient: 1 },
      { dimension: 'service', dimension_label: 'idle', incidents: 0, auto_resolved: 0, transient: 0 },
    ].map(toOnCallFigures);
    expect(noisiestServices(rows).map((row) => row.label)).toEqual(['api', 'web', 'batch']);
  });
});
