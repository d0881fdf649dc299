import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { useStyles2 } from '@grafana/ui';
import React from 'react';
import type { TimelineEvent } from '../../data/incidentRows';
import { formatDuration, formatInstant } from '../../utils/format';

interface Props {
  createdAt: number | null;
  events: TimelineEvent[] | null;
  timeZone: string;
}

// Events that change what the SLA clocks measure stand out; notifications and notes stay quiet.
const MILESTONES = new Set(['trigger', 'acknowledge', 'resolve', 'escalate', 'unacknowledge', 'reopen']);

/** The incident's log, each event with its offset from the trigger, for the expanded row. */
export function IncidentTimeline({ createdAt, events, timeZone }: Props) {
  const styles = useStyles2(getStyles);
  if (!events || events.length === 0) {
    return <div className={styles.empty}>No timeline recorded for this incident.</div>;
  }
  return (
    <ol className={styles.list} aria-label="Incident timeline">
      {events.map((event, index) => (
        <li key={`${event.at}-${index}`} className={styles.item}>
          <span className={styles.offset} title={formatInstant(event.at, timeZone)}>
            {createdAt === null
              ? formatInstant(event.at, timeZone)
              : `+${formatDuration((event.at - createdAt) / 1000)}`}
          </span>
          <span className={MILESTONES.has(event.type) ? styles.milestone : styles.type}>{event.type}</span>
          <span className={styles.text}>
            {[event.agent, event.summary].filter((part): part is string => Boolean(part)).join(' · ')}
          </span>
        </li>
      ))}
    </ol>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({ listStyle: 'none', margin: 0, padding: theme.spacing(1, 2), display: 'grid', gap: theme.spacing(0.5) }),
  item: css({ display: 'grid', gridTemplateColumns: '90px 130px 1fr', gap: theme.spacing(1), alignItems: 'baseline' }),
  offset: css({ color: theme.colors.text.secondary, fontVariantNumeric: 'tabular-nums', textAlign: 'right' }),
  milestone: css({ fontWeight: theme.typography.fontWeightMedium, color: theme.colors.text.primary }),
  type: css({ color: theme.colors.text.secondary }),
  text: css({ color: theme.colors.text.secondary, overflow: 'hidden', textOverflow: 'ellipsis' }),
  empty: css({ padding: theme.spacing(1, 2), color: theme.colors.text.secondary }),
});
