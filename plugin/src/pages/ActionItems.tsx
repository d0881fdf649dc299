import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { RadioButtonGroup, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { RangePicker } from '../components/RangePicker/RangePicker';
import { ActionItemsTable } from '../components/ActionItemsTable/ActionItemsTable';
import { Pager } from '../components/Pager/Pager';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { toActionItemRow } from '../data/actionItemRows';
import { numberOrNull } from '../data/rows';
import { accountVariable } from '../data/templateVariables';
import { ACTION_ITEMS_PAGE_SIZE, ACTION_ITEMS_SIZE_SQL, ACTION_ITEMS_SQL } from '../data/queries';
import { usePagedList } from '../data/usePagedList';
import { useSqlQuery } from '../data/useSqlQuery';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

type Scope = 'open' | 'all';

export function ActionItemsPage() {
  const styles = useStyles2(getStyles);
  const { datasourceUid, timezone } = useAppSettings();
  const [scope, setScope] = useState<Scope>('open');
  // Due dates lie ahead as well as behind: the default range looks both ways.
  const [timeRange, setTimeRange] = useState<TimeRange>(() => relativeTimeRange('now-90d', 'now+30d'));
  const [account, setAccount] = useAccountParam();
  const variables = useMemo(
    () => ({
      timezone: { value: timezone },
      include_done: { value: scope === 'all' ? 'true' : 'false' },
      source: accountVariable(account),
    }),
    [timezone, scope, account]
  );
  const size = useSqlQuery(datasourceUid, ACTION_ITEMS_SIZE_SQL, timeRange, variables);
  // The size of the list shown, not of the one before while it loads.
  const counts = size.loading
    ? undefined
    : { items: numberOrNull(size.rows[0]?.items), overdue: numberOrNull(size.rows[0]?.overdue) };
  const list = usePagedList(
    datasourceUid,
    ACTION_ITEMS_SQL,
    timeRange,
    variables,
    ACTION_ITEMS_PAGE_SIZE,
    counts?.items ?? undefined
  );
  const items = useMemo(() => list.rows.map(toActionItemRow), [list.rows]);

  return (
    <PluginPage
      subTitle={`Post-mortem follow-through. Every overdue item comes first, whatever its due date; then the items due in the range and those created in it without a due date. An item is overdue after the end of its due day in ${timezone}.`}
    >
      <div className={styles.controls}>
        <AccountPicker value={account} onChange={setAccount} />
        <RadioButtonGroup<Scope>
          options={[
            { label: 'Open', value: 'open' },
            { label: 'Open and done', value: 'all' },
          ]}
          value={scope}
          onChange={setScope}
        />
        {counts && counts.items !== null && counts.overdue !== null && (
          <span data-testid="action-items-summary" className={styles.summary}>
            {counts.items} items,{' '}
            <strong className={counts.overdue > 0 ? styles.bad : undefined}>{counts.overdue} overdue</strong>
          </span>
        )}
        <div className={styles.spacer} />
        <RangePicker value={timeRange} timeZone={timezone} onChange={setTimeRange} />
      </div>
      <QueryStatus loading={list.loading && items.length === 0} error={list.error ?? size.error} subject="action items">
        {items.length > 0 && <Pager page={list.page} shown={items.length} />}
        <ActionItemsTable items={items} />
      </QueryStatus>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  controls: css({ display: 'flex', gap: theme.spacing(2), alignItems: 'flex-end', marginBottom: theme.spacing(2) }),
  summary: css({ color: theme.colors.text.secondary }),
  bad: css({ color: theme.colors.error.text }),
  spacer: css({ flexGrow: 1 }),
});
