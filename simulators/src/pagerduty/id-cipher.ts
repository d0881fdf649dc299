/**
 * Ids that look like PagerDuty's yet are computed, not stored: a keyed
 * bijection turns a row number into a random-looking number and back, so an
 * id can be decoded to its row without a lookup table.
 */

const MASK31 = 0x7fffffff;
const MIX_A = 0x2c1b3c6d;
const MIX_B = 0x297a2d39;

function inverseOdd(a: number): number {
  let inverse = a;
  for (let i = 0; i < 5; i++) {
    inverse = Math.imul(inverse, 2 - Math.imul(a, inverse));
  }
  return inverse;
}
const MIX_A_INVERSE = inverseOdd(MIX_A | 1);
const MIX_B_INVERSE = inverseOdd(MIX_B | 1);

/** A keyed bijection on [0, 2^31): row numbers become random-looking ids. */
export function permute(value: number, key: number): number {
  let x = (value ^ key) & MASK31;
  x = Math.imul(x, MIX_A | 1) & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_B | 1) & MASK31;
  x ^= x >>> 16;
  return x;
}

export function unpermute(value: number, key: number): number {
  let x = value & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_B_INVERSE) & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_A_INVERSE) & MASK31;
  return (x ^ key) & MASK31;
}

export function base36(value: number, width: number): string {
  return value.toString(36).toUpperCase().padStart(width, '0');
}

export function hash32(value: number, key: number): number {
  let h = Math.imul(value ^ key, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return h >>> 0;
}
