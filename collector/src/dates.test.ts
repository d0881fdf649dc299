import { describe, expect, it } from 'vitest';
import { parseFileConfig } from './config.ts';
import { DateFormatError, parseIsoDay, parseIsoDayStart, parseIsoInstant, parseIsoMonth } from './dates.ts';
import { UsageError } from './errors.ts';

describe('strict date parsing', () => {
  it.each([
    ['2026-01-31', '2026-01-31'],
    ['2024-02-29', '2024-02-29'],
    ['2000-02-29', '2000-02-29'],
    ['2026-12-31', '2026-12-31'],
  ])('accepts the day %s', (text, expected) => {
    expect(parseIsoDay(text)).toBe(expected);
  });

  it.each([
    ['2026-02-30', /2026-02 has no day 30/],
    ['2026-02-29', /2026-02 has no day 29/],
    ['1900-02-29', /1900-02 has no day 29/],
    ['2026-04-31', /has no day 31/],
    ['2026-01-00', /has no day 0/],
    ['2026-13-01', /month 13 does not exist/],
    ['2026-00-10', /month 0 does not exist/],
    ['0000-01-01', /year 0 is out of range/],
    ['2026-13', /not a date written YYYY-MM-DD/],
    ['2026-01-01 junk', /not a date written YYYY-MM-DD/],
    ['2026-1-1', /not a date written YYYY-MM-DD/],
    [' 2026-01-01', /not a date written YYYY-MM-DD/],
    ['2026-01-01T00:00:00Z', /not a date written YYYY-MM-DD/],
    ['', /not a date written YYYY-MM-DD/],
  ])('refuses the day %j, naming it', (text, reason) => {
    expect(() => parseIsoDay(text)).toThrow(DateFormatError);
    expect(() => parseIsoDay(text)).toThrow(reason);
    expect(() => parseIsoDay(text)).toThrow(`'${text}'`);
  });

  it.each([
    ['2026-10', true],
    ['2026-12', true],
    ['2026-13', false],
    ['2026-00', false],
    ['2026-1', false],
    ['2026-10 x', false],
  ])('month %s accepted: %s', (text, ok) => {
    if (ok) {
      expect(parseIsoMonth(text)).toBe(text);
    } else {
      expect(() => parseIsoMonth(text)).toThrow(`'${text}'`);
    }
  });

  it('starts a day at its UTC midnight', () => {
    expect(parseIsoDayStart('2026-03-01').toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it.each([
    ['2026-11-22T09:00:00Z', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T09:00Z', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T09:00:00.250Z', '2026-11-22T09:00:00.250Z'],
    ['2026-11-22T10:00:00+01:00', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T10:00:00+0100', '2026-11-22T09:00:00.000Z'],
    ['2026-11-22T04:30:00-04:30', '2026-11-22T09:00:00.000Z'],
  ])('accepts the instant %s', (text, iso) => {
    expect(parseIsoInstant(text).toISOString()).toBe(iso);
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T09:60:00Z',
    '2026-11-22T09:00:61Z',
    '2026-11-22T09:00:00',
    '2026-11-22T09:00:00+25:00',
    '2026-11-22 09:00:00Z',
    '2026-11-22T09:00:00Z junk',
    'yesterday',
  ])('refuses the instant %j, naming it', (text) => {
    expect(() => parseIsoInstant(text)).toThrow(DateFormatError);
    expect(() => parseIsoInstant(text)).toThrow(`'${text}'`);
  });

  it.each(['2026-02-30', '2026-13', '2026-01-01 junk'])(
    'a YAML since of %j is a configuration error naming the key and value',
    (since) => {
      for (const source of ['pagerduty', 'jira'] as const) {
        const parse = () => parseFileConfig({ [source]: { since } }, 'incident-lens.yaml');
        expect(parse).toThrow(UsageError);
        expect(parse).toThrow(`${source}.since`);
        expect(parse).toThrow(`'${since}'`);
      }
    }
  );
});
