import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../collector/src/config.ts';
import {
  DateFormatError,
  parseIsoDay,
  parseIsoDayStart,
  parseIsoInstant,
  parseIsoMonth,
} from '../collector/src/dates.ts';
import { UsageError } from '../collector/src/errors.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

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

describe.concurrent('the command line refuses a malformed date with exit 2', () => {
  const CLI = path.resolve(import.meta.dirname, '../collector/bin/incident-lens.js');
  const run = promisify(execFile);
  let database: TestDatabase;
  let directory: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-dates-'));
  });
  afterAll(async () => {
    await database?.destroy();
    if (directory) {
      await rm(directory, { recursive: true, force: true });
    }
  });

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
    try {
      await run(process.execPath, [CLI, ...args], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: database.url,
          LOG_LEVEL: 'warn',
          PAGERDUTY_TOKEN: 'unused',
          PAGERDUTY_API_URL: 'http://127.0.0.1:9',
          ...env,
        },
      });
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  }

  it.each([
    [['sync', '--since', '2026-02-30'], '2026-02-30'],
    [['sync', '--since', '2026-13'], '2026-13'],
    [['sync', '--since', '2026-01-01 junk'], '2026-01-01 junk'],
    [['report', '--period', 'day', '--date', '2026-02-30'], '2026-02-30'],
    [['report', '--period', 'month', '--date', '2026-13'], '2026-13'],
    [['report', '--period', 'day', '--date', '2026-01-01 junk'], '2026-01-01 junk'],
    [['report', '--period', 'month', '--date', '2026-10', '--as-of', '2026-02-30T00:00:00Z'], '2026-02-30T00:00:00Z'],
    [['report', '--period', 'month', '--date', '2026-10', '--as-of', '2026-01-01 junk'], '2026-01-01 junk'],
  ])('%j exits 2 naming %s', async (args, value) => {
    const result = await cli(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(value);
  });

  it.each(['2026-02-30', '2026-13', '2026-01-01 junk'])(
    'pagerduty.since: %j in the YAML file exits 2 naming it',
    async (since) => {
      const file = path.join(directory, `since-${since.replace(/\W/g, '_')}.yaml`);
      await writeFile(file, `pagerduty:\n  since: ${since}\n`);
      const result = await cli(['sync'], { INCIDENT_LENS_CONFIG: file });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('pagerduty.since');
      expect(result.stderr).toContain(since);
    }
  );
});
