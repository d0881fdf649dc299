/**
 * The fixed things incidents refer to: teams, users, services with their
 * escalation policies, priorities, and the weekly on-call rotation.
 */
import { PRIORITY_NAMES } from './codes.ts';
import { base36, permute } from './id-cipher.ts';
import { DAY_MS } from './values.ts';

export interface CatalogEntry {
  id: string;
  name: string;
}

export interface UserEntry extends CatalogEntry {
  email: string;
  /** IANA zone, or null: PagerDuty then uses the account's zone. */
  timeZone: string | null;
}

export interface ServiceEntry extends CatalogEntry {
  teamId: string;
  escalationPolicyId: string;
  /** Seconds an acknowledgement lasts before PagerDuty unacknowledges, or null. */
  acknowledgementTimeout: number | null;
  /** Seconds after which PagerDuty resolves an incident still open (channel `timeout`), or null. */
  autoResolveTimeout: number | null;
  /** The monitoring tool's Events API integration, which triggers and auto-resolves. */
  integration: CatalogEntry;
  /** The monitoring tool resolves as the integration (`integration_reference`), not as the service. */
  resolvesAsIntegration: boolean;
  /** An alert that flaps: many incidents resolve on their own within minutes, unacknowledged. */
  flapping: boolean;
}

export const SERVICE_NAMES = [
  'checkout-api',
  'payments-gateway',
  'search',
  'auth-service',
  'inventory-db',
  'notifications',
  'orders-worker',
  'mobile-bff',
  'catalog',
  'shipping-rates',
  'ledger',
  'edge-proxy',
];
export const TEAM_NAMES = ['Platform', 'Payments', 'Storefront', 'Data', 'Mobile', 'Identity', 'Fulfilment', 'Edge'];
export const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Kaito',
  'Lena',
  'Marta',
  'Nils',
  'Olu',
  'Priya',
];
export const LAST_NAMES = [
  'Okafor',
  'Lindqvist',
  'Moreau',
  'Tanaka',
  'Silva',
  'Novak',
  'Haddad',
  'Brennan',
  'Kowalski',
  'Ruiz',
  'Schmidt',
  'Chen',
];
export const TITLE_TEMPLATES = [
  'High error rate on {service}',
  '{service}: p99 latency above 2s',
  'Disk usage above 90% on {service}-{host}',
  '{service} health check failing',
  'CPU saturation on {service}-{host}',
  'Elevated 5xx responses from {service}',
  '{service} queue backlog growing',
  'Memory pressure on {service}-{host}',
  'TLS certificate for {service} expires in 7 days',
  '{service} replication lag above threshold',
];
/**
 * Users' zones by position in their team, so every team has people in
 * several zones, one with a half-hour offset, and one without a zone.
 */
export const USER_TIME_ZONES = [
  'Europe/London',
  'America/New_York',
  'Asia/Kolkata',
  'Europe/Berlin',
  'America/Los_Angeles',
  null,
];
export const INTEGRATION_NAMES = ['Datadog', 'Prometheus Alertmanager', 'CloudWatch', 'Grafana'];

export const NOTES = [
  'Rolling back the last deploy.',
  'Looks like an upstream provider issue, monitoring.',
  'Scaled out to 12 replicas, error rate dropping.',
  'Root cause: connection pool exhaustion after config change.',
  'Customer impact confirmed, status page updated.',
  'Failing over to the secondary region.',
];
export const USERS_PER_TEAM = 6;

/** The fixed things incidents refer to: services, teams, users, priorities. */
export interface Catalog {
  subdomain: string;
  incidentKey: number;
  logEntryKey: number;
  teams: CatalogEntry[];
  services: ServiceEntry[];
  serviceTeam: number[];
  users: UserEntry[];
  /** users of team t: indexes t * USERS_PER_TEAM .. + USERS_PER_TEAM - 1 */
  policies: CatalogEntry[];
  priorities: CatalogEntry[];
}

export function buildCatalog(rng: () => number, serviceCount: number, teamCount: number, subdomain: string): Catalog {
  const key = () => Math.floor(rng() * 2 ** 31);
  const catalogKey = key();
  let serial = 0;
  const nextId = () => 'P' + base36(permute(serial++, catalogKey), 6);
  const numbered = (names: readonly string[], index: number) => {
    const name = names[index % names.length]!;
    return index < names.length ? name : `${name}-${Math.floor(index / names.length) + 1}`;
  };
  const teams = Array.from({ length: teamCount }, (_, t) => ({ id: nextId(), name: numbered(TEAM_NAMES, t) }));
  const users: UserEntry[] = [];
  for (let u = 0; u < teamCount * USERS_PER_TEAM; u++) {
    const first = FIRST_NAMES[Math.floor(rng() * FIRST_NAMES.length)]!;
    const last = LAST_NAMES[Math.floor(rng() * LAST_NAMES.length)]!;
    const id = nextId();
    users.push({
      id,
      name: `${first} ${last}`,
      email: `${first}.${last}.${id}@example.com`.toLowerCase(),
      timeZone: USER_TIME_ZONES[u % USERS_PER_TEAM]!,
    });
  }
  const policies: CatalogEntry[] = [];
  const services: ServiceEntry[] = [];
  const serviceTeam: number[] = [];
  for (let s = 0; s < serviceCount; s++) {
    const name = numbered(SERVICE_NAMES, s);
    const policy = { id: nextId(), name: `${name} escalation` };
    policies.push(policy);
    serviceTeam.push(s % teamCount);
    services.push({
      id: nextId(),
      name,
      teamId: teams[s % teamCount]!.id,
      escalationPolicyId: policy.id,
      // Most services keep acknowledgements until resolved; one lets them lapse.
      acknowledgementTimeout: s === 3 ? 12 * 3600 : null,
      autoResolveTimeout: s % 6 === 5 ? 4 * 3600 : null,
      integration: { id: '', name: INTEGRATION_NAMES[s % INTEGRATION_NAMES.length]! },
      resolvesAsIntegration: s % 2 === 0,
      flapping: s % 6 === 4,
    });
  }
  const priorities = PRIORITY_NAMES.map((name) => ({ id: nextId(), name }));
  // Drawn last, so the ids drawn before keep their values.
  for (const service of services) {
    service.integration.id = nextId();
  }
  return {
    subdomain,
    incidentKey: key(),
    logEntryKey: key(),
    teams,
    services,
    serviceTeam,
    users,
    policies,
    priorities,
  };
}

/** The user on call for a service at an escalation level (0 or 1): a weekly rotation. */
export function onCallUser(catalog: Catalog, service: number, at: number, level: number): number {
  const slot = (Math.floor(at / (7 * DAY_MS)) + level * 3 + service) % USERS_PER_TEAM;
  return catalog.serviceTeam[service]! * USERS_PER_TEAM + slot;
}
