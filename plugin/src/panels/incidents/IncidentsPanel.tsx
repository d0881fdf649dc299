import type { GrafanaTheme2, PanelProps } from '@grafana/data';
import { css } from '@emotion/css';
import { locationService } from '@grafana/runtime';
import { Alert, Button, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
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

/** The dashboard variable a paged query reads its page start from (page_after => '$incident_page'). */
export const PAGE_VARIABLE = 'incident_page';

export function IncidentsPanel({ data, options, width, height, timeZone }: PanelProps<IncidentsPanelOptions>) {
  const styles = useStyles2(getStyles);
  const frame = data.series[0];
  const missing = frame ? missingIncidentFields(frame.fields.map((field) => field.name)) : [];
  const incidents = useMemo(() => (frame ? frameToRows(frame).map(toIncidentRow) : []), [frame]);
  // A query paged on the server (lens.incident_list with page_size) returns page_cursor: the panel then
  // moves through pages by setting the dashboard variable, remembering where the newer pages started.
  const cursors = frame?.fields.find((field) => field.name === 'page_cursor');
  const [newerStarts, setNewerStarts] = useState<string[]>([]);
  const showPage = (start: string) => locationService.partial({ [`var-${PAGE_VARIABLE}`]: start }, true);

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
      {cursors && (
        <div className={styles.pager}>
          <Button
            size="sm"
            variant="secondary"
            icon="angle-left"
            disabled={newerStarts.length === 0}
            onClick={() => {
              showPage(newerStarts.at(-1) ?? '');
              setNewerStarts((starts) => starts.slice(0, -1));
            }}
          >
            Newer
          </Button>
          <Button
            size="sm"
            variant="secondary"
            icon="angle-right"
            disabled={incidents.length === 0}
            onClick={() => {
              const current = locationService.getSearchObject()[`var-${PAGE_VARIABLE}`];
              setNewerStarts((starts) => [...starts, typeof current === 'string' ? current : '']);
              showPage(String(cursors.values[cursors.values.length - 1]));
            }}
          >
            Older
          </Button>
        </div>
      )}
      <IncidentsTable incidents={incidents} timeZone={ianaTimeZone(timeZone)} options={options} />
    </div>
  );
}

const getStyles = (_theme: GrafanaTheme2) => ({
  container: css({ overflow: 'auto' }),
  pager: css({ display: 'flex', gap: '8px', justifyContent: 'flex-end', marginBottom: '8px' }),
});
