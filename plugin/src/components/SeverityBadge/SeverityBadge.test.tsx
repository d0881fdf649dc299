import { render, screen } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { SeverityBadge } from './SeverityBadge';

describe('SeverityBadge', () => {
  it.each([
    ['SEV1', 'SEV1'],
    ['SEV4', 'SEV4'],
    ['UNKNOWN', 'UNKNOWN'],
    ['P1', 'UNKNOWN'],
    [null, 'UNKNOWN'],
  ])('%s is shown as %s', (severity, shown) => {
    render(<SeverityBadge severity={severity} />);
    expect(screen.getByLabelText(`severity ${shown}`)).toHaveTextContent(shown);
  });
});
