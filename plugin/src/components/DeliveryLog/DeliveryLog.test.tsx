import { render, screen, within } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { DeliveryLog } from './DeliveryLog';

describe('DeliveryLog', () => {
  it('lists each recipient of each delivery, a permanent failure with its reason', () => {
    render(
      <DeliveryLog
        rows={[
          {
            runId: 2,
            granularity: 'day',
            period: '2026-11-22',
            trigger: 'schedule',
            channel: 'slack',
            recipient: 'SLACK_OPS_WEBHOOK',
            status: 'failed',
            tries: 1,
            error: 'Slack answered 404: no_service',
            updatedAt: Date.UTC(2026, 10, 23, 6, 0),
          },
          {
            runId: 1,
            granularity: 'month',
            period: '2026-10',
            trigger: 'resend',
            channel: 'email',
            recipient: 'vp-eng@example.com',
            status: 'sent',
            tries: 2,
            error: null,
            updatedAt: Date.UTC(2026, 10, 1, 6, 1),
          },
        ]}
      />
    );
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(3);
    const failed = within(rows[1]!);
    expect(failed.getByText('day 2026-11-22')).toBeInTheDocument();
    expect(failed.getByText('SLACK_OPS_WEBHOOK')).toBeInTheDocument();
    expect(failed.getByText('failed')).toBeInTheDocument();
    expect(failed.getByText('Slack answered 404: no_service')).toBeInTheDocument();
    expect(failed.getByText('2026-11-23 06:00')).toBeInTheDocument();
    const sent = within(rows[2]!);
    expect(sent.getByText('deliver (resend)')).toBeInTheDocument();
    expect(sent.getByText('vp-eng@example.com')).toBeInTheDocument();
  });

  it('says how to configure deliveries when there are none', () => {
    render(<DeliveryLog rows={[]} />);
    expect(screen.getByText(/No report has been delivered yet/)).toBeInTheDocument();
  });
});
