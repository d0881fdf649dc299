import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import React from 'react';
import { afterEach, vi } from 'vitest';

// @grafana/ui reads media queries for its breakpoints; the simulated DOM has none.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}

afterEach(() => cleanup());

// Grafana's Icon fetches SVG files from the Grafana server; tests have none, so icons render as empty SVGs.
vi.mock('react-inlinesvg', () => ({
  default: ({ src, title }: { src: string; title?: string }) =>
    React.createElement('svg', { 'data-icon': src.split('/').pop()?.replace('.svg', ''), 'aria-label': title }),
}));
