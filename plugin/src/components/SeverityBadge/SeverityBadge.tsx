import { Badge, type BadgeColor } from '@grafana/ui';
import React from 'react';

const SEVERITY_COLORS: Record<string, BadgeColor> = {
  SEV1: 'red',
  SEV2: 'orange',
  SEV3: 'blue',
  SEV4: 'green',
};

interface Props {
  severity: string | null;
}

/** SEV1..SEV4 in the colours on-call engineers expect; anything else is UNKNOWN in grey, never guessed. */
export function SeverityBadge({ severity }: Props) {
  const name = severity && severity in SEVERITY_COLORS ? severity : 'UNKNOWN';
  return <Badge text={name} color={SEVERITY_COLORS[name] ?? 'darkgrey'} aria-label={`severity ${name}`} />;
}
