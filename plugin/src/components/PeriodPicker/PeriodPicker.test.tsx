import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { describe, expect, it, vi } from 'vitest';
import { PeriodPicker } from './PeriodPicker';

describe('PeriodPicker', () => {
  it('moves to the previous and next month', async () => {
    const onChange = vi.fn();
    render(<PeriodPicker value={{ granularity: 'month', date: '2026-01-31' }} onChange={onChange} />);
    await userEvent.click(screen.getByRole('button', { name: 'Next month' }));
    expect(onChange).toHaveBeenLastCalledWith({ granularity: 'month', date: '2026-02-28' });
    await userEvent.click(screen.getByRole('button', { name: 'Previous month' }));
    expect(onChange).toHaveBeenLastCalledWith({ granularity: 'month', date: '2025-12-31' });
  });

  it('switches granularity and keeps the date', async () => {
    const onChange = vi.fn();
    render(<PeriodPicker value={{ granularity: 'month', date: '2026-10-15' }} onChange={onChange} />);
    await userEvent.click(screen.getByLabelText('Week'));
    expect(onChange).toHaveBeenCalledWith({ granularity: 'week', date: '2026-10-15' });
  });

  it('takes a typed date on Enter and ignores one that is not a day', () => {
    const onChange = vi.fn();
    render(<PeriodPicker value={{ granularity: 'day', date: '2026-10-15' }} onChange={onChange} />);
    const input = screen.getByLabelText('Report date');
    fireEvent.change(input, { target: { value: '2026-09-01' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onChange).toHaveBeenCalledWith({ granularity: 'day', date: '2026-09-01' });
    onChange.mockClear();
    fireEvent.change(input, { target: { value: '' } });
    fireEvent.blur(input);
    expect(onChange).not.toHaveBeenCalled();
  });
});
