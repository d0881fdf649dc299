import { InteractiveTable, type Column } from '@grafana/ui';
import React, { useMemo } from 'react';
import { formatDuration } from '../../utils/format';
import { SeverityBadge } from '../SeverityBadge/SeverityBadge';

export interface SlaTarget {
  severity: string;
  ackTargetSeconds: number;
  resolveTargetSeconds: number;
  /** Null when the severity needs no post-mortem. */
  postmortemDueSeconds: number | null;
}

interface Props {
  targets: SlaTarget[];
}

/** The SLA targets in force, one row per severity, as the metric functions read them. */
export function SlaPolicyTable({ targets }: Props) {
  const columns = useMemo<Array<Column<SlaTarget>>>(
    () => [
      { id: 'severity', header: 'Severity', cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
      {
        id: 'ackTargetSeconds',
        header: 'First response within',
        cell: ({ row }) => formatDuration(row.original.ackTargetSeconds),
      },
      {
        id: 'resolveTargetSeconds',
        header: 'Resolve within',
        cell: ({ row }) => formatDuration(row.original.resolveTargetSeconds),
      },
      {
        id: 'postmortemDueSeconds',
        header: 'Post-mortem',
        cell: ({ row }) =>
          row.original.postmortemDueSeconds === null
            ? 'not required'
            : `required, due ${formatDuration(row.original.postmortemDueSeconds)} after resolve`,
      },
    ],
    []
  );
  return <InteractiveTable columns={columns} data={targets} getRowId={(target) => target.severity} />;
}
