import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';

// Inter (SIL Open Font License 1.1, from the npm package @expo-google-fonts/inter),
// the first family the charts name: loaded from the package, never from the
// system, so labels render the same on a server without any font installed.
const FONT_FILE = createRequire(import.meta.url).resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf');

/** Twice the CSS size, so that charts stay sharp on high-density screens. */
const SCALE = 2;

/** An ECharts SVG as a PNG on white (mail clients show PNG; most drop SVG). */
export function svgToPng(svg: string): Buffer {
  const image = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: SCALE },
    font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: 'Inter', sansSerifFamily: 'Inter' },
  }).render();
  return image.asPng();
}
