import { render, screen, within } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../data/rows';
import { DataQualityList, SourceLink } from './DataQualityList';

const columns = [
  {
    id: 'incident',
    header: 'Incident',
    cell: ({ row }: { row: { original: Row } }) => (
      <SourceLink href={row.original.html_url}>{row.original.external_id}</SourceLink>
    ),
  },
];

function list(rows: Row[], error?: string) {
  render(
    <DataQualityList
      title="Incidents without severity"
      description="No SLA target applies."
      rows={rows}
      loading={false}
      error={error}
      columns={columns}
      rowId={(row) => String(row.external_id)}
    />
  );
  return screen.getByRole('region', { name: 'Incidents without severity' });
}

describe('DataQualityList', () => {
  it('counts the rows and links each to its source record, or shows its id when the source sent no URL', () => {
    const region = list([
      { external_id: 'P6', html_url: 'https://acme.pagerduty.com/incidents/P6' },
      { external_id: 'P7', html_url: null },
    ]);
    expect(within(region).getByRole('heading')).toHaveTextContent('Incidents without severity 2');
    expect(within(region).getByRole('link', { name: /P6/ })).toHaveAttribute(
      'href',
      'https://acme.pagerduty.com/incidents/P6'
    );
    expect(within(region).getByText('P7')).not.toHaveAttribute('href');
    expect(within(region).queryAllByRole('link')).toHaveLength(1);
  });

  it('says None when the list is empty', () => {
    const region = list([]);
    expect(within(region).getByText('None.')).toBeInTheDocument();
    expect(within(region).queryByRole('table')).toBeNull();
  });

  it('shows the datasource error instead of the table', () => {
    const region = list([], 'the datasource answered: function lens.missing_postmortems does not exist');
    expect(within(region).getByText(/does not exist/)).toBeInTheDocument();
    expect(within(region).queryByText('None.')).toBeNull();
  });
});
