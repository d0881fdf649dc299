import { describe, expect, it } from 'vitest';
import { renderCsv } from './csv.ts';

describe('the CSV report', () => {
  it('quotes fields per RFC 4180', () => {
    const csv = renderCsv([{ externalId: 'Q1', number: null, title: 'Disk "full", again\nand again' } as never]);
    expect(csv.split('\r\n')[1]!.startsWith('Q1,,"Disk ""full"", again\nand again"')).toBe(true);
  });
});
