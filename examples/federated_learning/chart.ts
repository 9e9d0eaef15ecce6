// A small hand-written SVG line chart: one panel per metric (loss, accuracy), one polyline per
// series (SecureFedAvg, PlainFedAvg), axes with ticks, and a legend. No chart library.

export interface Series {
  readonly label: string;
  readonly colour: string;
  /** Drawn dashed (so a series that lies exactly on another one still shows). */
  readonly dashed?: boolean;
  /** One value per x (round), starting at round 0. */
  readonly values: readonly number[];
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  /** Fixed y range; otherwise the data's range with a margin. */
  readonly yRange?: readonly [number, number];
}

const PANEL_WIDTH = 420;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 36, bottom: 44 };
const LEGEND_HEIGHT = 34;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

function panelSvg(panel: Panel, x0: number, rounds: number): string {
  const all = panel.series.flatMap((s) => s.values).filter(Number.isFinite);
  let [lo, hi] = panel.yRange ?? [Math.min(...all), Math.max(...all)];
  if (panel.yRange === undefined) {
    const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
    lo -= pad;
    hi += pad;
  }
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = MARGIN.top;
  const xOf = (round: number) => left + (rounds === 0 ? 0 : (round / rounds) * plotW);
  const yOf = (v: number) => top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${left + plotW / 2}" y="${top - 14}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`);
  // Grid and y ticks.
  for (const v of niceTicks(lo, hi)) {
    const y = yOf(v).toFixed(1);
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${formatTick(v)}</text>`);
  }
  // x ticks: rounds.
  for (const r of niceTicks(0, rounds, Math.min(rounds, 10)).filter((r) => Number.isInteger(r))) {
    const x = xOf(r).toFixed(1);
    parts.push(`<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${top + plotH + 17}" text-anchor="middle" font-size="11">${r}</text>`);
  }
  // Axes.
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle" font-size="12">round</text>`);
  // Series.
  for (const s of panel.series) {
    const points = s.values.map((v, r) => `${xOf(r).toFixed(1)},${yOf(v).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="7 5"' : '';
    parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="${s.dashed ? 2 : 3.5}"${dash} points="${points}"/>`);
    for (const [r, v] of s.values.entries()) {
      parts.push(`<circle cx="${xOf(r).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="${s.dashed ? 2 : 3.5}" fill="${s.colour}"/>`);
    }
  }
  return parts.join('\n');
}

/** A standalone SVG document with the panels side by side and one legend under them. */
export function lineChartSvg(title: string, panels: readonly Panel[]): string {
  const rounds = Math.max(0, ...panels.flatMap((p) => p.series.map((s) => s.values.length - 1)));
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + LEGEND_HEIGHT + 28;
  const body: string[] = [];
  body.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  body.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`);
  body.push(`<g transform="translate(0, 24)">`);
  panels.forEach((panel, i) => body.push(panelSvg(panel, i * PANEL_WIDTH, rounds)));
  body.push('</g>');
  // Legend: the series of the first panel (every panel draws the same ones).
  const legendY = PANEL_HEIGHT + 24 + LEGEND_HEIGHT / 2;
  let x = MARGIN.left;
  for (const s of panels[0]?.series ?? []) {
    const dash = s.dashed ? ' stroke-dasharray="7 5"' : '';
    body.push(`<line x1="${x}" y1="${legendY}" x2="${x + 32}" y2="${legendY}" stroke="${s.colour}" stroke-width="${s.dashed ? 2 : 3.5}"${dash}/>`);
    body.push(`<text x="${x + 40}" y="${legendY}" dominant-baseline="middle" font-size="13">${escapeXml(s.label)}</text>`);
    x += 72 + 7.5 * s.label.length;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
