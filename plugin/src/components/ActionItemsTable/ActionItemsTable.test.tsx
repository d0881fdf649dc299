import { render, screen, within } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { toActionItemRow } from '../../data/actionItemRows';
import type { Row } from '../../data/rows';
import { ActionItemsTable } from './ActionItemsTable';

const items = (
  [
    {
      id: 1,
      external_id: 'OPS-12',
      title: 'Add connection pool alarm',
      owner: 'Alice',
      team: 'Payments',
      status: 'In Progress',
      due_date: Date.parse('2026-10-01T00:00:00Z'),
      overdue: true,
      done: false,
      html_url: 'https://acme.atlassian.net/browse/OPS-12',
      incident_label: '#101 Checkout API 5xx',
      incident_url: 'https://acme.pagerduty.com/incidents/Q1ABC',
      postmortem_label: 'OPS-10',
      postmortem_url: 'https://acme.atlassian.net/browse/OPS-10',
    },
    {
      id: 2,
      external_id: 'OPS-13',
      title: 'Write runbook',
      owner: null,
      status: 'Done',
      due_date: '2026-10-20',
      done: true,
    },
    { id: 3, external_id: 'OPS-14', title: 'Tune alert', owner: 'Bob', status: 'To Do', due_date: null, done: false },
  ] as Row[]
).map(toActionItemRow);

describe('ActionItemsTable', () => {
  it('keeps the query order and marks overdue, done and undated items', () => {
    render(<ActionItemsTable items={items} />);
    const [, overdue, done, undated] = screen.getAllByRole('row');
    expect(within(overdue!).getByText('overdue')).toBeInTheDocument();
    expect(within(overdue!).getByText('2026-10-01')).toBeInTheDocument();
    expect(within(overdue!).getByRole('link', { name: /OPS-12/ })).toHaveAttribute(
      'href',
      'https://acme.atlassian.net/browse/OPS-12'
    );
    expect(within(overdue!).getByRole('link', { name: /#101 Checkout API 5xx/ })).toBeInTheDocument();
    expect(within(overdue!).getByRole('link', { name: /OPS-10/ })).toBeInTheDocument();
    expect(within(done!).getByText('done')).toBeInTheDocument();
    expect(within(done!).getByText('unassigned')).toBeInTheDocument();
    expect(within(undated!).getByText('no due date')).toBeInTheDocument();
  });
});
