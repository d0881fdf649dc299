import type { AppPluginMeta } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import React, { useContext, useMemo } from 'react';
import { AppConfigForm } from '../components/AppConfig/AppConfig';
import { DeliveryLog, type DeliveryRow } from '../components/DeliveryLog/DeliveryLog';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { REPORT_DELIVERIES_SQL } from '../data/queries';
import { numberOrNull, textOrNull } from '../data/rows';
import { useSqlQuery } from '../data/useSqlQuery';
import { relativeTimeRange } from '../utils/timeRange';
import { PluginPropsContext, useAppSettings, type AppSettings } from '../utils/utils.plugin';

export function ConfigurationPage() {
  const props = useContext(PluginPropsContext);
  const meta = props?.meta ?? ({ jsonData: {} } as AppPluginMeta<AppSettings>);
  const { datasourceUid } = useAppSettings();
  const timeRange = useMemo(() => relativeTimeRange('now-1h'), []);
  const deliveries = useSqlQuery(datasourceUid, REPORT_DELIVERIES_SQL, timeRange);
  const rows: DeliveryRow[] = deliveries.rows.map((row) => ({
    runId: Number(row.run_id),
    granularity: String(row.granularity),
    period: String(row.period_label),
    trigger: String(row.trigger),
    channel: String(row.channel),
    recipient: String(row.recipient),
    status: String(row.status),
    tries: numberOrNull(row.tries) ?? 0,
    error: textOrNull(row.error),
    updatedAt: numberOrNull(row.updated_at) ?? 0,
  }));
  return (
    <PluginPage subTitle="Which PostgreSQL datasource the pages read, and the time zone reports are cut in.">
      <AppConfigForm meta={meta} />
      <h3>Report deliveries</h3>
      <QueryStatus loading={deliveries.loading} error={deliveries.error} subject="the report deliveries">
        <DeliveryLog rows={rows} />
      </QueryStatus>
    </PluginPage>
  );
}
