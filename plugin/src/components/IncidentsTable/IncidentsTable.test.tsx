import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { toIncidentRow } from '../../data/incidentRows';
import { IncidentsTable } from './IncidentsTable';

const created = Date.parse('2026-10-03T12:00:00Z');

const incidents = [
  toIncidentRow(
    {
      id: 1,
      external_id: 'Q1ABC',
      number: 101,
      title: 'Checkout API 5xx',
      severity: 'SEV1',
      status: 'resolved',
      service: 'checkout',
      team: 'Payments',
      created_at: created,
      tta_seconds: 1200,
      ttr_seconds: 3000,
      ack_sla: 'breached',
      resolve_sla: 'met',
      ack_target_seconds: 900,
      resolve_target_seconds: 3600,
      html_url: 'https://acme.pagerduty.com/incidents/Q1ABC',
      jira_issue_key: 'OPS-7',
      jira_url: 'https://acme.atlassian.net/browse/OPS-7',
      timeline: JSON.stringify([
        { at: '2026-10-03T12:20:00Z', type: 'acknowledge', agent: 'Alice', summary: null },
        { at: '2026-10-03T12:00:00Z', type: 'trigger', agent: null, summary: 'Triggered by Datadog' },
      ]),
    },
    0
  ),
  toIncidentRow(
    { id: 2, title: 'Search slow', severity: 'P9', status: 'triggered', created_at: created, ack_sla: 'pending' },
    1
  ),
];

describe('IncidentsTable', () => {
  it('shows severity, SLA-coloured times and links for each incident', () => {
    render(<IncidentsTable incidents={incidents} timeZone="UTC" />);
    const [, first, second] = screen.getAllByRole('row');
    const row = within(first!);
    expect(row.getByText('SEV1')).toBeInTheDocument();
    expect(row.getByText('Checkout API 5xx')).toBeInTheDocument();
    expect(row.getByText('#101')).toBeInTheDocument();
    expect(row.getByText('20m')).toHaveAttribute('data-outcome', 'breached');
    expect(row.getByText('50m')).toHaveAttribute('data-outcome', 'met');
    expect(row.getByRole('link', { name: /PagerDuty/ })).toHaveAttribute(
      'href',
      'https://acme.pagerduty.com/incidents/Q1ABC'
    );
    expect(row.getByRole('link', { name: /OPS-7/ })).toHaveAttribute('href', 'https://acme.atlassian.net/browse/OPS-7');
    const open = within(second!);
    expect(open.getByText('UNKNOWN')).toBeInTheDocument();
    expect(open.getByText('pending')).toHaveAttribute('data-outcome', 'pending');
  });

  it('expands a row into its timeline, in time order with offsets from the trigger', async () => {
    render(<IncidentsTable incidents={incidents} timeZone="UTC" />);
    const [, first] = screen.getAllByRole('row');
    await userEvent.click(within(first!).getByRole('button'));
    const timeline = screen.getByRole('list', { name: 'Incident timeline' });
    const items = within(timeline).getAllByRole('listitem');
    expect(items.map((item) => item.textContent)).toEqual(['+0striggerTriggered by Datadog', '+20macknowledgeAlice']);
  });

  it('hides the columns the options turn off', () => {
    render(<IncidentsTable incidents={incidents} timeZone="UTC" options={{ showService: false, showLinks: false }} />);
    expect(screen.queryByRole('columnheader', { name: 'Service' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /PagerDuty/ })).not.toBeInTheDocument();
    expect(screen.getByRole('columnheader', { name: 'Team' })).toBeInTheDocument();
  });

  it('says so when nothing matches', () => {
    render(<IncidentsTable incidents={[]} timeZone="UTC" />);
    expect(screen.getByText('No incidents match.')).toBeInTheDocument();
  });
});
