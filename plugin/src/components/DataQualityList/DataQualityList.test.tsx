import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Row } from '../../data/rows';
import type { ListPage } from '../Pager/Pager';
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

function list(rows: Row[], error?: string, page?: ListPage) {
  render(
    <DataQualityList
      title="Incidents without severity"
      description="No SLA target applies."
      rows={rows}
      loading={false}
      error={error}
      columns={columns}
      rowId={(row) => String(row.external_id)}
      page={page}
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

  describe('one page of a list the server pages', () => {
    const rows = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => ({ external_id: `P${from + index}`, html_url: null }));

    it('counts the whole list in its heading, says where the page is in it, and shows every row of the page', () => {
      const region = list(rows(26, 25), undefined, { first: 26, total: 342, onPrevious: () => {}, onNext: () => {} });
      expect(within(region).getByRole('heading')).toHaveTextContent('Incidents without severity 342');
      expect(within(region).getByTestId('list-position')).toHaveTextContent('26–50 of 342');
      expect(within(region).getByText('P26')).toBeInTheDocument();
      expect(within(region).getByText('P50')).toBeInTheDocument();
    });

    it('asks for the page before and the page after', async () => {
      const onPrevious = vi.fn();
      const onNext = vi.fn();
      const region = list(rows(26, 25), undefined, { first: 26, total: 342, onPrevious, onNext });
      await userEvent.click(within(region).getByRole('button', { name: /Next/ }));
      await userEvent.click(within(region).getByRole('button', { name: /Previous/ }));
      expect(onNext).toHaveBeenCalledTimes(1);
      expect(onPrevious).toHaveBeenCalledTimes(1);
    });

    it('shows no buttons for a list of one page, and no total before the counts arrive', () => {
      const region = list(rows(1, 3), undefined, { first: 1 });
      expect(within(region).getByTestId('list-position')).toHaveTextContent(/^1–3$/);
      expect(within(region).queryByRole('button')).toBeNull();
      expect(within(region).getByRole('heading').textContent?.trim()).toBe('Incidents without severity');
    });
  });
});
