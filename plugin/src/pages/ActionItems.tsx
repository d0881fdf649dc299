import { PluginPage } from '@grafana/runtime';
import { RadioButtonGroup, Stack } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { ActionItemsTable } from '../components/ActionItemsTable/ActionItemsTable';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { toActionItemRow } from '../data/actionItemRows';
import { ACTION_ITEMS_SQL } from '../data/queries';
import { useSqlQuery } from '../data/useSqlQuery';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

type Scope = 'open' | 'all';

export function ActionItemsPage() {
  const { datasourceUid, timezone } = useAppSettings();
  const [scope, setScope] = useState<Scope>('open');
  const timeRange = useMemo(() => relativeTimeRange('now-1h'), []);
  const variables = useMemo(
    () => ({ timezone: { value: timezone }, include_done: { value: scope === 'all' ? 'true' : 'false' } }),
    [timezone, scope]
  );
  const query = useSqlQuery(datasourceUid, ACTION_ITEMS_SQL, timeRange, variables);
  const items = useMemo(() => query.rows.map(toActionItemRow), [query.rows]);
  const overdue = items.filter((item) => item.overdue).length;

  return (
    <PluginPage
      subTitle={`Post-mortem follow-through: overdue items first. An item is overdue after the end of its due day in ${timezone}.`}
    >
      <Stack direction="column" gap={2}>
        <Stack direction="row" gap={2} alignItems="center">
          <RadioButtonGroup<Scope>
            options={[
              { label: 'Open', value: 'open' },
              { label: 'All', value: 'all' },
            ]}
            value={scope}
            onChange={setScope}
          />
          {!query.loading && !query.error && (
            <span data-testid="action-items-summary">
              {items.length} items, {overdue} overdue
            </span>
          )}
        </Stack>
        <QueryStatus loading={query.loading} error={query.error} subject="action items">
          <ActionItemsTable items={items} />
        </QueryStatus>
      </Stack>
    </PluginPage>
  );
}
