import pg from 'pg';

/**
 * A small, deterministic incident history written straight into the core
 * tables: incidents of every severity with acks, escalations, breaches and
 * open ones, timelines, post-mortems, action items (done, overdue, undated)
 * and sync runs. Times are relative to `now`, so that pages showing "the
 * last 30 days" have something to show whenever the tests run.
 */

export interface FixtureOptions {
  now: Date;
  incidents?: number;
  seed?: number;
}

export interface FixtureSummary {
  incidents: number;
  actionItems: number;
  teams: string[];
  services: string[];
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEAMS = ['Payments', 'Search', 'Platform'];
const SERVICES: Array<[string, number]> = [
  ['checkout', 0],
  ['payments-api', 0],
  ['search-api', 1],
  ['web-frontend', 2],
  ['postgres-primary', 2],
];
const SEVERITY_WEIGHTS: Array<[string, string | null, number]> = [
  ['SEV1', 'P1', 0.08],
  ['SEV2', 'P2', 0.17],
  ['SEV3', 'P3', 0.4],
  ['SEV4', 'P4', 0.3],
  ['UNKNOWN', null, 0.05],
];
const TITLES = [
  'Elevated 5xx on {service}',
  '{service} latency p99 above 2s',
  'Error budget burn on {service}',
  '{service} pods crash-looping',
  'Disk 90% full on {service}',
  'Certificate expiring for {service}',
];
const ROOT_CAUSES = ['db-connection-pool', 'bad-deploy', 'expired-certificate', 'dns', null, null];
const OWNERS = ['Alice Moreau', 'Bilal Khan', 'Chen Wei', 'Dana Okafor', null];
// On-call users in three zones, one with a half-hour offset, one without a zone.
const RESPONDERS: Array<[string, string | null]> = [
  ['Alice Moreau', 'Europe/Paris'],
  ['Bilal Khan', 'Asia/Kolkata'],
  ['Chen Wei', 'America/Los_Angeles'],
  ['Dana Okafor', null],
];
const METHODS = ['push', 'sms', 'phone', 'email', 'push', 'phone'];

export async function loadIncidentFixtures(url: string, options: FixtureOptions): Promise<FixtureSummary> {
  const next = random(options.seed ?? 7);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const now = options.now.getTime();
  const count = options.incidents ?? 90;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const pagerduty = await client.query<{ id: number }>(
      `INSERT INTO sources (kind, base_url, name) VALUES ('pagerduty', 'https://acme.pagerduty.com', 'Acme PagerDuty') RETURNING id`
    );
    const jira = await client.query<{ id: number }>(
      `INSERT INTO sources (kind, base_url, name) VALUES ('jira', 'https://acme.atlassian.net', 'Acme Jira') RETURNING id`
    );
    const pagerdutyId = pagerduty.rows[0]!.id;
    const jiraId = jira.rows[0]!.id;

    const teamIds: number[] = [];
    for (const [index, name] of TEAMS.entries()) {
      const team = await client.query<{ id: number }>(
        `INSERT INTO teams (source_id, external_id, name, html_url) VALUES ($1, $2, $3, $4) RETURNING id`,
        [pagerdutyId, `PT${index}`, name, `https://acme.pagerduty.com/teams/PT${index}`]
      );
      teamIds.push(team.rows[0]!.id);
    }
    const serviceIds: number[] = [];
    for (const [index, [name]] of SERVICES.entries()) {
      const service = await client.query<{ id: number }>(
        `INSERT INTO services (source_id, external_id, name, html_url) VALUES ($1, $2, $3, $4) RETURNING id`,
        [pagerdutyId, `PS${index}`, name, `https://acme.pagerduty.com/services/PS${index}`]
      );
      serviceIds.push(service.rows[0]!.id);
    }

    const userIds: number[] = [];
    for (const [index, [name, zone]] of RESPONDERS.entries()) {
      const user = await client.query<{ id: number }>(
        `INSERT INTO users (source_id, external_id, name, time_zone) VALUES ($1, $2, $3, $4) RETURNING id`,
        [pagerdutyId, `PU${index}`, name, zone]
      );
      userIds.push(user.rows[0]!.id);
    }
    // Its own sequence, so that the incidents stay what they were before on-call data existed.
    const onCallNext = random((options.seed ?? 7) + 1);

    let actionItems = 0;
    let issueNumber = 100;
    for (let index = 0; index < count; index++) {
      const createdAt = now - 2 * 3600_000 - Math.floor(next() * 100 * 86400_000);
      let roll = next();
      const [severity, priority] =
        SEVERITY_WEIGHTS.find(([, , weight]) => (roll -= weight) < 0) ?? SEVERITY_WEIGHTS[3]!;
      const serviceIndex = Math.floor(next() * SERVICES.length);
      const [serviceName, teamIndex] = SERVICES[serviceIndex]!;
      const age = now - createdAt;
      // Most incidents are acked within minutes; some take long enough to breach; a few never are.
      const ackDelay =
        next() < 0.07 ? null : Math.floor((severity === 'SEV1' ? 240 : 600) * (0.2 + next() * next() * 8) * 1000);
      const resolveDelay =
        age < 12 * 3600_000 && next() < 0.6
          ? null
          : Math.floor((severity === 'SEV4' ? 36 : 3) * 3600_000 * (0.1 + next() * next() * 3));
      const acknowledgedAt = ackDelay === null || ackDelay > age ? null : createdAt + ackDelay;
      const resolvedAt =
        resolveDelay === null || resolveDelay > age
          ? null
          : createdAt + Math.max(resolveDelay, (ackDelay ?? 0) + 60_000);
      const merged = index % 41 === 40;
      const escalated = next() < 0.2;
      const externalId = `Q${(1000 + index).toString(36).toUpperCase()}FX${index}`;
      const number = 5000 + index;
      const needsJira = severity === 'SEV1' || severity === 'SEV2';
      const jiraKey = needsJira ? `INC-${issueNumber++}` : null;
      const rootCause = pick(ROOT_CAUSES);
      const status = resolvedAt !== null ? 'resolved' : acknowledgedAt !== null ? 'acknowledged' : 'triggered';
      const incident = await client.query<{ id: number }>(
        `INSERT INTO incidents (source_id, external_id, number, title, status, urgency, priority_raw, severity,
           service_id, team_id, created_at, acknowledged_at, resolved_at, merged, escalated, unack_count,
           root_cause_key, html_url, jira_issue_key, jira_url)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,to_timestamp($11/1000.0),to_timestamp($12/1000.0),to_timestamp($13/1000.0),
           $14,$15,$16,$17,$18,$19,$20) RETURNING id`,
        [
          pagerdutyId,
          externalId,
          number,
          pick(TITLES).replace('{service}', serviceName),
          status,
          severity === 'SEV4' ? 'low' : 'high',
          priority,
          severity,
          serviceIds[serviceIndex],
          teamIds[teamIndex],
          createdAt,
          acknowledgedAt,
          resolvedAt,
          merged,
          escalated,
          next() < 0.1 ? 1 : 0,
          rootCause,
          `https://acme.pagerduty.com/incidents/${externalId}`,
          jiraKey,
          jiraKey ? `https://acme.atlassian.net/browse/${jiraKey}` : null,
        ]
      );
      const incidentId = incident.rows[0]!.id;

      // Notifications to the service's on-call user (and a second one for some), who acknowledges;
      // a fifth of the resolves come from the monitoring integration, a few from a timeout.
      const responder = (serviceIndex + Math.floor(onCallNext() * 2)) % RESPONDERS.length;
      for (let page = 0; page < 1 + Math.floor(onCallNext() * 3); page++) {
        const at = createdAt + 20_000 + page * 5 * 60_000;
        if (at > now) {
          continue;
        }
        const method = METHODS[Math.floor(onCallNext() * METHODS.length)]!;
        await client.query(
          `INSERT INTO notifications (source_id, external_id, incident_id, user_id, notified_at, method, channel_type)
           VALUES ($1,$2,$3,$4,to_timestamp($5/1000.0),$6,$7)`,
          [
            pagerdutyId,
            `${externalId}-N${page}`,
            incidentId,
            userIds[(responder + page) % userIds.length],
            at,
            method,
            `${method}_notification`,
          ]
        );
      }
      const resolvedBy =
        resolvedAt === null ? null : onCallNext() < 0.2 ? 'integration' : onCallNext() < 0.1 ? 'timeout' : 'user';
      await client.query(`UPDATE incidents SET acknowledged_by = $2, resolved_by = $3 WHERE id = $1`, [
        incidentId,
        acknowledgedAt === null ? null : userIds[responder],
        resolvedBy,
      ]);

      const events: Array<[string, number, string | null, string | null]> = [
        ['trigger', createdAt, null, `Triggered via ${serviceName} monitor`],
      ];
      events.push(['notify', createdAt + 20_000, pick(OWNERS) ?? 'On-call', 'Notified by push']);
      if (escalated) {
        events.push(['escalate', createdAt + 5 * 60_000, null, 'Escalated to level 2']);
      }
      if (acknowledgedAt !== null) {
        events.push(['acknowledge', acknowledgedAt, pick(OWNERS) ?? 'On-call', null]);
      }
      if (resolvedAt !== null) {
        events.push(['resolve', resolvedAt, pick(OWNERS) ?? 'On-call', null]);
      }
      for (const [eventIndex, [type, at, agent, summary]] of events.entries()) {
        if (at > now) {
          continue;
        }
        await client.query(
          `INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at, agent, summary)
           VALUES ($1,$2,$3,$4,$5,to_timestamp($6/1000.0),$7,$8)`,
          [incidentId, pagerdutyId, `${externalId}-E${eventIndex}`, type, `${type}_log_entry`, at, agent, summary]
        );
      }

      // Post-mortems for resolved SEV1/SEV2: most done, some late, some not yet.
      if (!needsJira || resolvedAt === null || merged) {
        continue;
      }
      const postmortemKey = `PM-${issueNumber++}`;
      const completionRoll = next();
      const completedAt =
        completionRoll < 0.6
          ? resolvedAt + Math.floor(next() * 40 * 3600_000)
          : completionRoll < 0.8
            ? resolvedAt + Math.floor((8 + next() * 6) * 86400_000)
            : null;
      const postmortemDone = completedAt !== null && completedAt <= now;
      const postmortem = await client.query<{ id: number }>(
        `INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at, completed_at, root_cause_key, html_url)
         VALUES ($1,$2,$3,$4,$5,to_timestamp($6/1000.0),to_timestamp($7/1000.0),$8,$9) RETURNING id`,
        [
          jiraId,
          postmortemKey,
          `Post-incident review: ${serviceName}`,
          postmortemDone ? 'Done' : 'In Progress',
          postmortemDone ? 'done' : 'indeterminate',
          resolvedAt + 3600_000,
          postmortemDone ? completedAt : null,
          rootCause,
          `https://acme.atlassian.net/browse/${postmortemKey}`,
        ]
      );
      await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
        postmortem.rows[0]!.id,
        incidentId,
      ]);
      for (let item = 0; item < 1 + Math.floor(next() * 3); item++) {
        const key = `OPS-${issueNumber++}`;
        const itemCreated = resolvedAt + 2 * 3600_000;
        if (itemCreated > now) {
          continue;
        }
        const undated = next() < 0.12;
        const dueAt = itemCreated + Math.floor((3 + next() * 25) * 86400_000);
        const dueDate = undated ? null : new Date(dueAt).toISOString().slice(0, 10);
        const doneRoll = next();
        const itemCompletedAt = doneRoll < 0.55 ? itemCreated + Math.floor(next() * 30 * 86400_000) : null;
        const itemDone = itemCompletedAt !== null && itemCompletedAt <= now;
        await client.query(
          `INSERT INTO action_items (source_id, external_id, incident_id, postmortem_id, title, status, status_category, owner, due_date, created_at, completed_at, html_url)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,to_timestamp($10/1000.0),to_timestamp($11/1000.0),$12)`,
          [
            jiraId,
            key,
            incidentId,
            postmortem.rows[0]!.id,
            pick([
              'Add alert on connection pool saturation',
              'Write runbook section',
              'Load-test the fix',
              'Add canary stage',
              'Rotate certificates automatically',
            ]),
            itemDone ? 'Done' : pick(['To Do', 'In Progress']),
            itemDone ? 'done' : 'new',
            pick(OWNERS),
            dueDate,
            itemCreated,
            itemDone ? itemCompletedAt : null,
            `https://acme.atlassian.net/browse/${key}`,
          ]
        );
        actionItems++;
      }
    }

    for (const [sourceId, minutesAgo] of [
      [pagerdutyId, 3],
      [jiraId, 4],
    ] as const) {
      await client.query(
        `INSERT INTO sync_runs (source_id, mode, started_at, finished_at, outcome, requests, records_upserted)
         VALUES ($1, 'incremental', to_timestamp($2/1000.0), to_timestamp($3/1000.0), 'succeeded', 3, 12)`,
        [sourceId, now - minutesAgo * 60_000 - 5000, now - minutesAgo * 60_000]
      );
    }
    await client.query('COMMIT');
    return { incidents: count, actionItems, teams: TEAMS, services: SERVICES.map(([name]) => name) };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    await client.end();
  }
}
