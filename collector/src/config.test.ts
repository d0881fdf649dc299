import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseDuration, parseFileConfig } from './config.ts';
import { UsageError } from './errors.ts';

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
  it('fills every default of README.md', () => {
    const config = parseFileConfig({});
    expect(config.timezone).toBe('UTC');
    expect(config.repeatWindowDays).toBe(90);
    expect(config.schedule.sync).toBe('*/5 * * * *');
    expect(config.sla.SEV1).toEqual({ ack: 900, resolve: 3600, postmortem: 172_800 });
    expect(config.sla.SEV3).toEqual({ ack: 7200, resolve: 86_400 });
    expect(config.jira.newStatuses).toEqual(['Open', 'New', 'To Do']);
    expect(config.jira.fields).toEqual({
      severity: 'priority',
      rootCause: null,
      pagerdutyIncident: null,
      firstResponseSla: null,
    });
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
    expect(() => loadConfig({ JIRA_BASE_URL: 'acme' }, '/nonexistent')).toThrow(
      "JIRA_BASE_URL is not a URL: got 'acme'"
    );
  });

  it('requires Jira credentials once Jira is configured', () => {
    expect(() => loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net' }, '/nonexistent')).toThrow(/JIRA_EMAIL/);
  });
});

describe('sources: several accounts', () => {
  const withSources = (sources: unknown[], env: NodeJS.ProcessEnv = {}) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'incident-lens-config-')), 'incident-lens.yaml');
    writeFileSync(file, JSON.stringify({ sources }));
    return () => loadConfig({ INCIDENT_LENS_CONFIG: file, ...env }, '/nonexistent');
  };

  it('lists the accounts in sync order, each with the secrets its variables hold; the single-account variables are then unused', () => {
    const config = withSources(
      [
        {
          name: 'jira-payments',
          kind: 'jira',
          baseUrl: 'https://payments.atlassian.net/',
          emailEnv: 'PAY_EMAIL',
          tokenEnv: 'PAY_TOKEN',
        },
        {
          name: 'pd-eu',
          kind: 'pagerduty',
          apiUrl: 'https://api.eu.pagerduty.com',
          tokenEnv: 'PD_EU',
          webhookSecretEnv: 'PD_EU_SECRET',
        },
        { name: 'pd-us', kind: 'pagerduty', tokenEnv: 'PD_US' },
      ],
      {
        PAY_EMAIL: 'ops@acme.example',
        PAY_TOKEN: 'jt',
        PD_EU: 'eu',
        PD_EU_SECRET: 'whsec',
        PD_US: 'us',
        PAGERDUTY_TOKEN: 'unused',
      }
    )();
    expect(config.sources).toEqual([
      {
        name: 'pd-eu',
        kind: 'pagerduty',
        baseUrl: 'https://api.eu.pagerduty.com',
        token: 'eu',
        webhookSecret: 'whsec',
        webhookSecretVariable: 'PD_EU_SECRET',
        requestsPerMinute: 960,
      },
      {
        name: 'pd-us',
        kind: 'pagerduty',
        baseUrl: 'https://api.pagerduty.com',
        token: 'us',
        webhookSecret: undefined,
        webhookSecretVariable: 'webhookSecretEnv',
        requestsPerMinute: 960,
      },
      {
        name: 'jira-payments',
        kind: 'jira',
        baseUrl: 'https://payments.atlassian.net',
        email: 'ops@acme.example',
        apiToken: 'jt',
      },
    ]);
  });

  it.each<[string, unknown[], NodeJS.ProcessEnv, RegExp]>([
    [
      'a name used twice',
      [
        { name: 'pd', kind: 'pagerduty', tokenEnv: 'A' },
        { name: 'pd', kind: 'pagerduty', tokenEnv: 'A' },
      ],
      { A: 'x' },
      /sources\[1\]: the name 'pd' is used twice/,
    ],
    [
      'a token variable that is not set',
      [{ name: 'pd-eu', kind: 'pagerduty', tokenEnv: 'PD_EU' }],
      {},
      /'pd-eu' reads its token from PD_EU, which is not set/,
    ],
    [
      'an unknown kind',
      [{ name: 'og', kind: 'opsgenie' }],
      {},
      /unknown source kind 'opsgenie': choose one of pagerduty, jira/,
    ],
    [
      'a name that cannot be a URL path segment',
      [{ name: 'pd eu', kind: 'pagerduty', tokenEnv: 'A' }],
      { A: 'x' },
      /sources\.0\.name: an account name is 1-63 letters/,
    ],
    ['a Jira site without its URL', [{ name: 'j', kind: 'jira' }], {}, /sources\[0\]: baseUrl/],
    [
      'an API URL that is not http(s)',
      [{ name: 'pd', kind: 'pagerduty', tokenEnv: 'A', apiUrl: 'ftp://x' }],
      { A: 'x' },
      /sources\[0\]: apiUrl/,
    ],
  ])('refuses %s, naming it', (_case, sources, env, message) => {
    const load = withSources(sources, env);
    expect(load).toThrow(UsageError);
    expect(load).toThrow(message);
  });
});
