import { describe, expect, it } from 'vitest';
import { loadConfig, parseDuration, parseFileConfig } from '../collector/src/config.ts';
import { UsageError } from '../collector/src/errors.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['4h', 14_400],
    ['7d', 604_800],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['15', '1.5h', '2w', '', 'm'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/a duration is written like/);
  });
});

describe('parseFileConfig', () => {
  it('fills every default of INTERFACES.md', () => {
    const config = parseFileConfig({});
    expect(config.timezone).toBe('UTC');
    expect(config.repeatWindowDays).toBe(90);
    expect(config.schedule.sync).toBe('*/5 * * * *');
    expect(config.sla.SEV1).toEqual({ ack: 900, resolve: 3600, postmortem: 172_800 });
    expect(config.sla.SEV3).toEqual({ ack: 7200, resolve: 86_400 });
    expect(config.jira.newStatuses).toEqual(['Open', 'New', 'To Do']);
    expect(config.jira.fields).toEqual({ severity: 'priority', rootCause: null, pagerdutyIncident: null });
  });

  it('keeps the defaults of sibling keys when one is overridden', () => {
    const config = parseFileConfig({ sla: { SEV2: { ack: '10m', resolve: '2h' } } });
    expect(config.sla.SEV2).toEqual({ ack: 600, resolve: 7200 });
    expect(config.sla.SEV1.ack).toBe(900);
  });

  it.each([
    [{ timezon: 'UTC' }, "unknown key 'timezon'"],
    [{ sla: { SEV1: { ack: '15m', resolv: '1h' } } }, "unknown key 'sla.SEV1.resolv'"],
    [{ jira: { fields: { rootcause: 'x' } } }, "unknown key 'jira.fields.rootcause'"],
    [{ timezone: 'Mars/Olympus' }, "not an IANA time zone: 'Mars/Olympus'"],
    [{ sla: { SEV1: { ack: 'soon', resolve: '1h' } } }, 'a duration is written like'],
    [{ severity: { map: { P0: 'SEV0' } } }, 'severity.map.P0'],
  ])('rejects %j naming the problem', (document, message) => {
    expect(() => parseFileConfig(document)).toThrow(UsageError);
    expect(() => parseFileConfig(document)).toThrow(message);
  });
});

describe('loadConfig', () => {
  it('reads secrets only from the environment', () => {
    const config = loadConfig({ PAGERDUTY_TOKEN: 'tok', PAGERDUTY_API_URL: 'http://127.0.0.1:9/' }, '/nonexistent');
    expect(config.sources).toEqual([
      {
        name: 'pagerduty',
        kind: 'pagerduty',
        baseUrl: 'http://127.0.0.1:9',
        token: 'tok',
        webhookSecret: undefined,
        webhookSecretVariable: 'PAGERDUTY_WEBHOOK_SECRET',
        requestsPerMinute: 960,
      },
    ]);
  });

  it('names the variable when a URL is not a URL', () => {
    expect(() => loadConfig({ JIRA_BASE_URL: 'acme' }, '/nonexistent')).toThrow("JIRA_BASE_URL is not a URL: got 'acme'");
  });

  it('requires Jira credentials once Jira is configured', () => {
    expect(() => loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net' }, '/nonexistent')).toThrow(/JIRA_EMAIL/);
  });
});
