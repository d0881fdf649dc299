import { render, screen, within } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { SlaPolicyTable } from './SlaPolicyTable';

describe('SlaPolicyTable', () => {
  it('shows each severity with its targets and whether a post-mortem is required', () => {
    render(
      <SlaPolicyTable
        targets={[
          { severity: 'SEV1', ackTargetSeconds: 900, resolveTargetSeconds: 3600, postmortemDueSeconds: 172800 },
          { severity: 'SEV4', ackTargetSeconds: 86400, resolveTargetSeconds: 604800, postmortemDueSeconds: null },
        ]}
      />
    );
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(3);
    const sev1 = within(rows[1]!);
    expect(sev1.getByText('SEV1')).toBeInTheDocument();
    expect(sev1.getByText('15m')).toBeInTheDocument();
    expect(sev1.getByText('1h')).toBeInTheDocument();
    expect(sev1.getByText('required, due 2d after resolve')).toBeInTheDocument();
    const sev4 = within(rows[2]!);
    expect(sev4.getByText('7d')).toBeInTheDocument();
    expect(sev4.getByText('not required')).toBeInTheDocument();
  });
});
