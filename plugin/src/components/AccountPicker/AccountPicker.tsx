import { Combobox, Field } from '@grafana/ui';
import React, { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { ACCOUNTS_SQL } from '../../data/queries';
import { useSqlQuery } from '../../data/useSqlQuery';
import { relativeTimeRange } from '../../utils/timeRange';
import { useAppSettings } from '../../utils/utils.plugin';

/**
 * The account a page is restricted to, kept in the URL (`source`, like
 * `report --source`) so that a link shows the same account; undefined: every
 * account.
 */
export function useAccountParam(): [string | undefined, (account: string | undefined) => void] {
  const [params, setParams] = useSearchParams();
  const setAccount = (account: string | undefined) => {
    const next = new URLSearchParams(params);
    if (account) {
      next.set('source', account);
    } else {
      next.delete('source');
    }
    setParams(next, { replace: true });
  };
  return [params.get('source') || undefined, setAccount];
}

interface Props {
  value: string | undefined;
  onChange: (account: string | undefined) => void;
}

const ALL = '';

/** Every account the database holds, or one of them; shown only when there is a choice to make. */
export function AccountPicker({ value, onChange }: Props) {
  const { datasourceUid } = useAppSettings();
  // The query has no time macro; the hook still takes a range.
  const [timeRange] = useState(() => relativeTimeRange('now-1h'));
  const accounts = useSqlQuery(datasourceUid, ACCOUNTS_SQL, timeRange);
  if (accounts.rows.length < 2 && !value) {
    return null;
  }
  const options = [
    { label: 'All accounts', value: ALL },
    ...accounts.rows.map((row) => ({
      label: String(row.name),
      value: String(row.name),
      description: String(row.kind),
    })),
  ];
  return (
    <Field label="Account" noMargin>
      <Combobox<string>
        id="account-picker"
        width={28}
        options={options}
        value={value ?? ALL}
        onChange={(option) => onChange(option.value || undefined)}
      />
    </Field>
  );
}
