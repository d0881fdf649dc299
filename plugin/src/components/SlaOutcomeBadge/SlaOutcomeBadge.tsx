import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { Tooltip, useStyles2 } from '@grafana/ui';
import React from 'react';
import { formatDuration } from '../../utils/format';

export type SlaOutcome = 'met' | 'breached' | 'pending';

export function parseSlaOutcome(value: unknown): SlaOutcome | null {
  return value === 'met' || value === 'breached' || value === 'pending' ? value : null;
}

interface Props {
  /** Elapsed seconds to the event (ack or resolve); null when it has not happened. */
  seconds: number | null;
  /** The outcome as SQL classified it; null when the severity has no target. */
  outcome: SlaOutcome | null;
  targetSeconds?: number | null;
  label: string;
}

// What to show when the event has not happened: still in time, too late, or no target to be late for.
const NOT_YET: Record<SlaOutcome | 'none', string> = { pending: 'pending', breached: 'missed', met: '–', none: '–' };

/** A time to ack or resolve, coloured by the SLA outcome the SQL computed (green met, red breached, amber pending). */
export function SlaOutcomeBadge({ seconds, outcome, targetSeconds, label }: Props) {
  const styles = useStyles2(getStyles);
  const text = seconds === null ? NOT_YET[outcome ?? 'none'] : formatDuration(seconds);
  const className = outcome ? styles[outcome] : styles.none;
  const target =
    targetSeconds !== null && targetSeconds !== undefined ? `target ${formatDuration(targetSeconds)}` : 'no target';
  const description = `${label}: ${text}, ${outcome ?? 'unclassified'} (${target})`;
  return (
    <Tooltip content={description}>
      <span className={className} aria-label={description} data-outcome={outcome ?? 'none'}>
        {text}
      </span>
    </Tooltip>
  );
}

const getStyles = (theme: GrafanaTheme2) => {
  const base = css({
    fontVariantNumeric: 'tabular-nums',
    padding: theme.spacing(0, 0.75),
    borderRadius: theme.shape.radius.default,
    whiteSpace: 'nowrap',
  });
  return {
    met: css(base, { color: theme.colors.success.text, background: theme.colors.success.transparent }),
    breached: css(base, { color: theme.colors.error.text, background: theme.colors.error.transparent }),
    pending: css(base, { color: theme.colors.warning.text, background: theme.colors.warning.transparent }),
    none: css(base, { color: theme.colors.text.secondary }),
  };
};
