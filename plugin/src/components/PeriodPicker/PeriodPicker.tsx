import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { Button, Field, Input, RadioButtonGroup, useStyles2 } from '@grafana/ui';
import React, { useState } from 'react';
import { GRANULARITIES, isIsoDay, shiftAnchor, type Granularity } from '../../utils/period';

export interface ReportPeriod {
  granularity: Granularity;
  /** Any day inside the period, YYYY-MM-DD, as `incident-lens report --date` takes it. */
  date: string;
}

interface Props {
  value: ReportPeriod;
  onChange: (period: ReportPeriod) => void;
}

const LABELS: Record<Granularity, string> = { day: 'Day', week: 'Week', month: 'Month' };

/** Day / week / month, a date inside the period, and previous / next. */
export function PeriodPicker({ value, onChange }: Props) {
  const styles = useStyles2(getStyles);
  const [draft, setDraft] = useState(value.date);
  // A new period from outside replaces whatever was being typed (adjusted during render, as React advises).
  const [shownDate, setShownDate] = useState(value.date);
  if (shownDate !== value.date) {
    setShownDate(value.date);
    setDraft(value.date);
  }

  const commitDraft = () => {
    if (isIsoDay(draft)) {
      onChange({ ...value, date: draft });
    } else {
      setDraft(value.date);
    }
  };
  const step = (steps: number) => onChange({ ...value, date: shiftAnchor(value.date, value.granularity, steps) });

  return (
    <div className={styles.row}>
      <Field label="Period" noMargin>
        <RadioButtonGroup<Granularity>
          options={GRANULARITIES.map((granularity) => ({ label: LABELS[granularity], value: granularity }))}
          value={value.granularity}
          onChange={(granularity) => onChange({ ...value, granularity })}
        />
      </Field>
      <Field label="Date inside the period" invalid={!isIsoDay(draft)} noMargin>
        <Input
          aria-label="Report date"
          type="date"
          width={20}
          value={draft}
          onChange={(event) => setDraft(event.currentTarget.value)}
          onBlur={commitDraft}
          onKeyDown={(event) => event.key === 'Enter' && commitDraft()}
        />
      </Field>
      <div className={styles.stepButtons}>
        <Button
          variant="secondary"
          icon="angle-left"
          onClick={() => step(-1)}
          aria-label={`Previous ${value.granularity}`}
        >
          Previous
        </Button>
        <Button variant="secondary" icon="angle-right" onClick={() => step(1)} aria-label={`Next ${value.granularity}`}>
          Next
        </Button>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  row: css({ display: 'flex', gap: theme.spacing(2), alignItems: 'flex-end', flexWrap: 'wrap' }),
  stepButtons: css({ display: 'flex', gap: theme.spacing(1) }),
});
