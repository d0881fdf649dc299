import { sql } from 'kysely';
import type { Db } from '../../sync/store.ts';
import type { MappedNotification, MappedUser } from './mapper.ts';

/**
 * Users and notifications (docs/metrics.md §10). Users from /users are written
 * whole; a user only named by a log entry (a notification, an ack) is added
 * as a stub without a zone and never overwrites what /users said.
 */
export async function upsertUsers(
  db: Db,
  sourceId: number,
  users: MappedUser[],
  from: 'users' | 'log_entries'
): Promise<void> {
  const rows = [...new Map(users.map((user) => [user.externalId, user])).values()].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0
  );
  if (rows.length === 0) {
    return;
  }
  const column = <T>(pick: (row: MappedUser) => T) => rows.map(pick);
  const values = sql`
    SELECT ${sourceId}, u.*
    FROM unnest(${column((row) => row.externalId)}::text[], ${column((row) => row.name)}::text[],
                ${column((row) => row.timeZone)}::text[], ${column((row) => row.htmlUrl)}::text[]) AS u`;
  if (from === 'log_entries') {
    await sql`
      INSERT INTO users (source_id, external_id, name, time_zone, html_url) ${values}
      ON CONFLICT (source_id, external_id) DO NOTHING`.execute(db);
  } else {
    await sql`
      INSERT INTO users AS x (source_id, external_id, name, time_zone, html_url) ${values}
      ON CONFLICT (source_id, external_id) DO UPDATE SET
        name = excluded.name, time_zone = excluded.time_zone, html_url = excluded.html_url, synced_at = now()
      -- An unchanged user is not rewritten.
      WHERE (x.name, x.time_zone, x.html_url) IS DISTINCT FROM (excluded.name, excluded.time_zone, excluded.html_url)`.execute(
      db
    );
  }
}

export interface NotificationRow extends MappedNotification {
  incidentId: number;
  externalId: string;
  notifiedAt: string;
}

/** Notify entries never change at the source: a re-read one is skipped. Their users must exist. */
export async function upsertNotifications(db: Db, sourceId: number, notifications: NotificationRow[]): Promise<void> {
  const rows = [...new Map(notifications.map((row) => [row.externalId, row])).values()];
  if (rows.length === 0) {
    return;
  }
  const column = <T>(pick: (row: NotificationRow) => T) => rows.map(pick);
  await sql`
    INSERT INTO notifications (source_id, external_id, incident_id, user_id, notified_at, method, channel_type)
    SELECT ${sourceId}, n.external_id, n.incident_id, u.id, n.notified_at, n.method, n.channel_type
    FROM unnest(${column((row) => row.externalId)}::text[], ${column((row) => row.incidentId)}::bigint[],
                ${column((row) => row.user.externalId)}::text[], ${column((row) => row.notifiedAt)}::timestamptz[],
                ${column((row) => row.method)}::text[], ${column((row) => row.channelType)}::text[])
           AS n(external_id, incident_id, user_external_id, notified_at, method, channel_type)
    JOIN users u ON u.source_id = ${sourceId} AND u.external_id = n.user_external_id
    ON CONFLICT (source_id, external_id) DO NOTHING`.execute(db);
}
