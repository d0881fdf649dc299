import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Pager } from './Pager';

describe('Pager', () => {
  it('says where the page is in the list and asks for the pages before and after', async () => {
    const onPrevious = vi.fn();
    const onNext = vi.fn();
    render(<Pager page={{ first: 101, total: 4019, onPrevious, onNext }} shown={100} />);
    expect(screen.getByTestId('list-position')).toHaveTextContent('101–200 of 4019');
    await userEvent.click(screen.getByRole('button', { name: /Next/ }));
    await userEvent.click(screen.getByRole('button', { name: /Previous/ }));
    expect(onNext).toHaveBeenCalledTimes(1);
    expect(onPrevious).toHaveBeenCalledTimes(1);
  });

  it('disables Previous on the first page and Next on the last', () => {
    const { unmount } = render(<Pager page={{ first: 1, total: 130, onNext: () => {} }} shown={100} />);
    expect(screen.getByRole('button', { name: /Previous/ })).toBeDisabled();
    expect(screen.getByRole('button', { name: /Next/ })).toBeEnabled();
    unmount();
    render(<Pager page={{ first: 101, total: 130, onPrevious: () => {} }} shown={30} />);
    expect(screen.getByTestId('list-position')).toHaveTextContent('101–130 of 130');
    expect(screen.getByRole('button', { name: /Previous/ })).toBeEnabled();
    expect(screen.getByRole('button', { name: /Next/ })).toBeDisabled();
  });

  it('shows no buttons for a list of one page, and no total before the counts arrive', () => {
    render(<Pager page={{ first: 1 }} shown={3} />);
    expect(screen.getByTestId('list-position')).toHaveTextContent(/^1–3$/);
    expect(screen.queryByRole('button')).toBeNull();
  });
});
