import {
  InternalTimeZones,
  dateTime,
  type AppPluginMeta,
  type GrafanaTheme2,
  type PluginConfigPageProps,
} from '@grafana/data';
import { css } from '@emotion/css';
import { getBackendSrv, locationService } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, Stack, TimeZonePicker, useStyles2 } from '@grafana/ui';
import React, { useState } from 'react';
import { lastValueFrom } from 'rxjs';
import { PLUGIN_ID } from '../../constants';
import { CONNECTION_CHECK_SQL } from '../../data/queries';
import { runSqlQuery } from '../../data/sqlQuery';
import { resolveAppSettings, type AppSettings } from '../../utils/utils.plugin';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<AppSettings>> {}

type Check =
  { state: 'idle' } | { state: 'running' } | { state: 'ok'; detail: string } | { state: 'failed'; detail: string };

/** The datasource the pages read and the zone reports are cut in; stored in the app's plugin settings. */
export function AppConfigForm({ meta }: { meta: AppPluginMeta<AppSettings> }) {
  const styles = useStyles2(getStyles);
  const initial = resolveAppSettings(meta.jsonData);
  const [datasourceUid, setDatasourceUid] = useState(initial.datasourceUid);
  const [timezone, setTimezone] = useState(initial.timezone);
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [saveError, setSaveError] = useState<string>();

  const testConnection = async () => {
    setCheck({ state: 'running' });
    try {
      const now = dateTime();
      const frame = await runSqlQuery({
        datasourceUid,
        rawSql: CONNECTION_CHECK_SQL,
        timeRange: { from: now, to: now, raw: { from: 'now', to: 'now' } },
      });
      const policies = frame.fields.find((field) => field.name === 'severities')?.values[0];
      setCheck({ state: 'ok', detail: `Connected: the SLA policy has ${policies ?? 0} severities.` });
    } catch (error) {
      setCheck({ state: 'failed', detail: (error as Error).message });
    }
  };

  const save = async () => {
    setSaveError(undefined);
    try {
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${PLUGIN_ID}/settings`,
          method: 'POST',
          data: { enabled: meta.enabled ?? true, pinned: meta.pinned ?? true, jsonData: { datasourceUid, timezone } },
        })
      );
      // Grafana hands plugin settings to the app only on load.
      locationService.reload();
    } catch (error) {
      setSaveError(`Saving failed: ${(error as { data?: { message?: string } }).data?.message ?? String(error)}`);
    }
  };

  return (
    <FieldSet label="Incident Lens settings" className={styles.fieldSet}>
      <Field
        label="PostgreSQL datasource uid"
        description="A grafana-postgresql-datasource connected as incident_lens_reader. The provisioned one is incident-lens-pg."
      >
        <Input
          aria-label="Datasource uid"
          width={40}
          value={datasourceUid}
          onChange={(event) => setDatasourceUid(event.currentTarget.value.trim())}
        />
      </Field>
      <Field label="Time zone" description="The zone in which days, weeks and months of the Reports page start.">
        <TimeZonePicker
          inputId="incident-lens-timezone"
          // 'utc' is one of Grafana's internal zones, which the picker lists only when asked.
          includeInternal={[InternalTimeZones.utc]}
          width={40}
          value={timezone === 'UTC' ? 'utc' : timezone}
          onChange={(zone) => zone && setTimezone(zone === 'utc' ? 'UTC' : zone)}
        />
      </Field>
      <Stack direction="row" gap={1}>
        <Button variant="secondary" onClick={testConnection} disabled={check.state === 'running'}>
          Test connection
        </Button>
        <Button onClick={save} disabled={datasourceUid === ''}>
          Save settings
        </Button>
      </Stack>
      {check.state === 'ok' && (
        <Alert severity="success" title="Datasource works" className={styles.alert}>
          {check.detail}
        </Alert>
      )}
      {check.state === 'failed' && (
        <Alert severity="error" title="Datasource check failed" className={styles.alert}>
          {check.detail}
        </Alert>
      )}
      {saveError && (
        <Alert severity="error" title="Settings not saved" className={styles.alert}>
          {saveError}
        </Alert>
      )}
    </FieldSet>
  );
}

const AppConfig = ({ plugin }: AppConfigProps) => <AppConfigForm meta={plugin.meta} />;

export default AppConfig;

const getStyles = (theme: GrafanaTheme2) => ({
  fieldSet: css({ marginTop: theme.spacing(2), maxWidth: 720 }),
  alert: css({ marginTop: theme.spacing(2) }),
});
