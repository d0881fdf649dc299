import type { GrafanaTheme2, PanelProps } from '@grafana/data';
import { css } from '@emotion/css';
import { Alert, useStyles2 } from '@grafana/ui';
import React, { useMemo } from 'react';
import { IncidentsTable } from '../../components/IncidentsTable/IncidentsTable';
import { missingIncidentFields, toIncidentRow } from '../../data/incidentRows';
import { frameToRows } from '../../data/rows';
import type { IncidentsPanelOptions } from './types';

/** 'browser' and 'utc' are Grafana's names; everything below wants an IANA zone. */
export function ianaTimeZone(timeZone: string): string {
  if (timeZone === 'utc') {
    return 'UTC';
  }
  if (timeZone === 'browser' || timeZone === '') {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
  return timeZone;
}

export function IncidentsPanel({ data, options, width, height, timeZone }: PanelProps<IncidentsPanelOptions>) {
  const styles = useStyles2(getStyles);
  const frame = data.series[0];
  const missing = frame ? missingIncidentFields(frame.fields.map((field) => field.name)) : [];
  const incidents = useMemo(() => (frame ? frameToRows(frame).map(toIncidentRow) : []), [frame]);

  if (frame && missing.length > 0) {
    return (
      <Alert severity="warning" title="This query does not return incidents">
        The incidents panel needs the columns {missing.join(', ')}. Select them from the incidents view (see the
        Incident Lens README), and set the query format to Table.
      </Alert>
    );
  }
  return (
    <div className={styles.container} style={{ width, height }}>
      <IncidentsTable incidents={incidents} timeZone={ianaTimeZone(timeZone)} options={options} />
    </div>
  );
}

const getStyles = (_theme: GrafanaTheme2) => ({
  container: css({ overflow: 'auto' }),
});
