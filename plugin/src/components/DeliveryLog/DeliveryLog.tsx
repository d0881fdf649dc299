import { Badge, InteractiveTable, type Column } from '@grafana/ui';
import React, { useMemo } from 'react';

/** One recipient of one report delivery (lens.report_deliveries); never a secret. */
export interface DeliveryRow {
  runId: number;
  granularity: string;
  period: string;
  trigger: string;
  channel: string;
  /** The address, or for Slack the variable that holds the webhook URL. */
  recipient: string;
  status: string;
  tries: number;
  error: string | null;
  /** Epoch milliseconds. */
  updatedAt: number;
}

const STATUS_COLOR = { sent: 'green', failed: 'red', pending: 'orange', sending: 'orange' } as const;

interface Props {
  rows: DeliveryRow[];
}

/** Recent report deliveries by e-mail and Slack, a permanent failure with its reason. */
export function DeliveryLog({ rows }: Props) {
  const columns = useMemo<Array<Column<DeliveryRow>>>(
    () => [
      { id: 'period', header: 'Report', cell: ({ row }) => `${row.original.granularity} ${row.original.period}` },
      {
        id: 'trigger',
        header: 'Sent by',
        cell: ({ row }) => (row.original.trigger === 'schedule' ? 'schedule' : 'deliver (resend)'),
      },
      { id: 'channel', header: 'Channel' },
      { id: 'recipient', header: 'Recipient' },
      {
        id: 'status',
        header: 'Status',
        cell: ({ row }) => (
          <Badge
            text={row.original.status}
            color={STATUS_COLOR[row.original.status as keyof typeof STATUS_COLOR] ?? 'blue'}
          />
        ),
      },
      { id: 'tries', header: 'Tries' },
      { id: 'error', header: 'Reason', cell: ({ row }) => row.original.error ?? '' },
      {
        id: 'updatedAt',
        header: 'Last change',
        cell: ({ row }) => new Date(row.original.updatedAt).toISOString().slice(0, 16).replace('T', ' '),
      },
    ],
    []
  );
  if (rows.length === 0) {
    return <p>No report has been delivered yet. Configure recipients under delivery: in incident-lens.yaml.</p>;
  }
  return (
    <InteractiveTable
      columns={columns}
      data={rows}
      getRowId={(row) => `${row.runId}:${row.channel}:${row.recipient}`}
    />
  );
}
