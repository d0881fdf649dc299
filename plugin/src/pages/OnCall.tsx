import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { InteractiveTable, useStyles2, type Column } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { RangePicker } from '../components/RangePicker/RangePicker';
import { HourOfWeekHeatmap } from '../components/HourOfWeekHeatmap/HourOfWeekHeatmap';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { StatTile } from '../components/StatTile/StatTile';
import { TrendChart } from '../components/TrendChart/TrendChart';
import { hourOfWeekGrid, noisiestServices, toOnCallFigures, type OnCallFigures } from '../data/onCall';
import { ONCALL_BANDS_SQL, ONCALL_SQL } from '../data/queries';
import { accountVariable } from '../data/templateVariables';
import { numberOrNull } from '../data/rows';
import { useSqlQuery } from '../data/useSqlQuery';
import { formatRate } from '../utils/format';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

const count = (name: keyof OnCallFigures): Column<OnCallFigures> => ({
  id: name,
  header: name === 'nightsInterrupted' ? 'Nights' : name[0]!.toUpperCase() + name.slice(1),
  sortType: 'number',
  cell: ({ row }) => String(row.original[name]),
});

export function OnCallPage() {
  const styles = useStyles2(getStyles);
  const { datasourceUid, timezone } = useAppSettings();
  const [timeRange, setTimeRange] = useState<TimeRange>(() => relativeTimeRange('now-30d'));
  const [account, setAccount] = useAccountParam();
  const variables = useMemo(
    () => ({ timezone: { value: timezone }, source: accountVariable(account) }),
    [timezone, account]
  );
  const query = useSqlQuery(datasourceUid, ONCALL_SQL, timeRange, variables);
  const bandsQuery = useSqlQuery(datasourceUid, ONCALL_BANDS_SQL, timeRange, variables);

  const figures = useMemo(() => query.rows.map(toOnCallFigures), [query.rows]);
  const total = figures.find((row) => row.dimension === 'total');
  const responders = figures.filter((row) => row.dimension === 'responder');
  const services = noisiestServices(figures);
  const grid = useMemo(() => hourOfWeekGrid(figures), [figures]);
  const bands = useMemo(() => {
    const column = (name: string) => bandsQuery.rows.map((row) => numberOrNull(row[name]));
    return {
      times: bandsQuery.rows.map((row) => Number(row.time)),
      business: column('business'),
      off: column('off'),
      sleep: column('sleep'),
    };
  }, [bandsQuery.rows]);

  const responderColumns = useMemo<Array<Column<OnCallFigures>>>(
    () => [
      { id: 'label', header: 'Responder' },
      { id: 'timeZone', header: 'Zone' },
      count('sleep'),
      count('nightsInterrupted'),
      count('off'),
      count('business'),
      { ...count('interruptions'), header: 'Total' },
      count('acknowledged'),
    ],
    []
  );
  const serviceColumns = useMemo<Array<Column<OnCallFigures>>>(
    () => [
      { id: 'label', header: 'Service' },
      count('incidents'),
      { ...count('autoResolved'), header: 'Auto-resolved' },
      count('transient'),
      {
        id: 'autoResolvedShare',
        header: 'Auto-resolved share',
        cell: ({ row }) => formatRate(row.original.autoResolvedShare),
      },
      { ...count('interruptions'), header: 'Interruptions' },
    ],
    []
  );

  return (
    <PluginPage
      subTitle={`What incident response costs the people on call: interruptions (sms, phone, push) by band in each responder's own zone — business Mon–Fri 08:00–18:00, sleep 22:00–08:00, off the rest — and the noise that pages them.`}
    >
      <div className={styles.controls}>
        <AccountPicker value={account} onChange={setAccount} />
        <RangePicker value={timeRange} timeZone={timezone} onChange={setTimeRange} />
      </div>
      <QueryStatus loading={query.loading && figures.length === 0} error={query.error} subject="on-call figures">
        <div className={styles.tiles}>
          <StatTile
            title="Interruptions"
            value={String(total?.interruptions ?? 0)}
            detail={`${total?.notifications ?? 0} notifications, ${total?.unknownMethod ?? 0} by an unknown method`}
          />
          <StatTile
            title="Sleep-hour interruptions"
            value={String(total?.sleep ?? 0)}
            detail={`${total?.nightsInterrupted ?? 0} nights interrupted`}
            tone={(total?.sleep ?? 0) > 0 ? 'warning' : 'good'}
          />
          <StatTile
            title="Off-hours interruptions"
            value={String(total?.off ?? 0)}
            detail={`${total?.business ?? 0} in business hours`}
          />
          <StatTile
            title="Auto-resolved"
            value={formatRate(total?.autoResolvedShare)}
            detail={`${total?.autoResolved ?? 0} of ${total?.incidents ?? 0} incidents`}
          />
          <StatTile
            title="Transient"
            value={formatRate(total?.transientShare)}
            detail={`${total?.transient ?? 0} resolved within 5 min, never acknowledged`}
          />
        </div>
        <div className={styles.grid}>
          <QueryStatus
            loading={bandsQuery.loading && bandsQuery.rows.length === 0}
            error={bandsQuery.error}
            subject="bands over time"
          >
            <TrendChart
              title="Interruptions by band, per week"
              times={bands.times}
              series={[
                { name: 'Sleep', values: bands.sleep },
                { name: 'Off', values: bands.off },
                { name: 'Business', values: bands.business },
              ]}
              unit="none"
              timeRange={timeRange}
              timeZone={timezone}
            />
          </QueryStatus>
          <section className={styles.panel} aria-label="Interruptions by hour of week">
            <h3 className={styles.heading}>Interruptions by hour of week ({timezone})</h3>
            <HourOfWeekHeatmap grid={grid} timeZone={timezone} />
          </section>
        </div>
        <section className={styles.section} aria-label="Responders">
          <h3 className={styles.heading}>Responders, most sleep interruptions first</h3>
          {responders.length === 0 ? (
            <p className={styles.empty}>Nobody was interrupted in this range.</p>
          ) : (
            <InteractiveTable columns={responderColumns} data={responders} getRowId={(row) => row.key ?? row.label} />
          )}
        </section>
        <section className={styles.section} aria-label="Noise by service">
          <h3 className={styles.heading}>Noise by service</h3>
          <p className={styles.empty}>
            Auto-resolved: closed by a service, an integration or a timeout. Transient: resolved within 300 s and never
            acknowledged. Both stay in MTTA and MTTR.
          </p>
          {services.length > 0 && (
            <InteractiveTable columns={serviceColumns} data={services} getRowId={(row) => row.key ?? row.label} />
          )}
        </section>
      </QueryStatus>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  controls: css({
    display: 'flex',
    justifyContent: 'flex-end',
    alignItems: 'flex-end',
    gap: theme.spacing(2),
    marginBottom: theme.spacing(2),
  }),
  tiles: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1.5), marginBottom: theme.spacing(2) }),
  grid: css({ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: theme.spacing(2), alignItems: 'start' }),
  panel: css({
    background: theme.colors.background.primary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1.5, 2),
  }),
  section: css({ marginTop: theme.spacing(3) }),
  heading: css({ fontSize: theme.typography.h5.fontSize, marginBottom: theme.spacing(1) }),
  empty: css({ color: theme.colors.text.secondary }),
});
