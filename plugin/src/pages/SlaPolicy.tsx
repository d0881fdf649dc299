import { PluginPage } from '@grafana/runtime';
import React, { useMemo } from 'react';
import { SlaPolicyTable, type SlaTarget } from '../components/SlaPolicyTable/SlaPolicyTable';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { SLA_POLICY_SQL } from '../data/queries';
import { numberOrNull } from '../data/rows';
import { useSqlQuery } from '../data/useSqlQuery';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

export function SlaPolicyPage() {
  const { datasourceUid } = useAppSettings();
  const timeRange = useMemo(() => relativeTimeRange('now-1h'), []);
  const policy = useSqlQuery(datasourceUid, SLA_POLICY_SQL, timeRange);
  const targets: SlaTarget[] = policy.rows.map((row) => ({
    severity: String(row.severity),
    ackTargetSeconds: Number(row.ack_target_seconds),
    resolveTargetSeconds: Number(row.resolve_target_seconds),
    postmortemDueSeconds: numberOrNull(row.postmortem_due_seconds),
  }));
  return (
    <PluginPage subTitle="The targets every SLA figure is measured against. Change them in incident-lens.yaml (sla:); the collector writes them to the database at start.">
      <QueryStatus loading={policy.loading} error={policy.error} subject="the SLA policy">
        <SlaPolicyTable targets={targets} />
      </QueryStatus>
    </PluginPage>
  );
}
