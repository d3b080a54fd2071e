// A small SVG line chart: side-by-side panels, each with its own series of (x, y) points,
// optional log y axis. No dependencies.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(lo, hi, log) {
  if (log) {
    const ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 1.5, 2, 3, 5, 7]) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
      }
    }
    return ticks;
  }
  const span = hi - lo;
  const mag = 10 ** Math.floor(Math.log10(span / 10));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= 10);
  const ticks = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) ticks.push(+(k * step).toPrecision(12));
  return ticks;
}

/**
 * panels: [{ title, xLabel, yLabel, logY, xRange?, yInclude?: [y...], hlines?: [{ y, color, label }],
 *            series: [{ label, color, dash?, width?, markers?, markerPoints?: [[x, y]], points: [[x, y], ...] }] }]
 * laid out `columns` per row. Returns the SVG text.
 */
export function lineChart({ title, subtitle = '', panels, columns = panels.length, panelWidth = 420, panelHeight = 300 }) {
  const padL = 62, padR = 16, padB = 50, legendH = 16;
  const padT = 56 + 14 * [subtitle].flat().length;
  const maxSeries = Math.max(...panels.map((p) => p.series.length + (p.hlines?.length ?? 0)));
  const cellW = panelWidth + padL + padR;
  const cellH = padT + panelHeight + padB + maxSeries * legendH;
  const rows = Math.ceil(panels.length / columns);
  const W = Math.min(columns, panels.length) * cellW + 20;
  const H = rows * cellH + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...[subtitle].flat().map((line, i) => `<text x="16" y="${40 + i * 14}" font-size="11" fill="#444">${esc(line)}</text>`),
  ];
  panels.forEach((panel, pi) => {
    const x0 = 10 + (pi % columns) * cellW + padL;
    const y0 = Math.floor(pi / columns) * cellH + padT, y1 = y0 + panelHeight;
    const pts = [
      ...panel.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!panel.logY || y > 0)),
      ...(panel.hlines ?? []).map((h) => [NaN, h.y]),
      ...(panel.yInclude ?? []).map((y) => [NaN, y]),
    ];
    if (!pts.some(([x]) => Number.isFinite(x))) return;
    const xs = pts.map((p) => p[0]).filter(Number.isFinite);
    let [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
    let [ylo, yhi] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
    if (panel.xRange) [xlo, xhi] = panel.xRange;
    if (panel.logY) [ylo, yhi] = [ylo / 1.1, yhi * 1.1];
    else [ylo, yhi] = [Math.max(0, ylo - (yhi - ylo) * 0.05), yhi + (yhi - ylo) * 0.05];
    if (xhi === xlo) xhi = xlo + 1;
    if (yhi === ylo) yhi = ylo + 1;
    const X = (x) => x0 + ((x - xlo) / (xhi - xlo)) * panelWidth;
    const Y = (y) => (panel.logY ? y1 - ((Math.log(y) - Math.log(ylo)) / (Math.log(yhi) - Math.log(ylo))) * panelHeight : y1 - ((y - ylo) / (yhi - ylo)) * panelHeight);
    parts.push(`<text x="${x0}" y="${y0 - 10}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    const yt = niceTicks(ylo, yhi, panel.logY);
    const dec = panel.logY || yt.length < 2 ? null : Math.max(0, -Math.floor(Math.log10(yt[1] - yt[0] + 1e-12)));
    for (const t of yt) {
      parts.push(`<line x1="${x0}" x2="${x0 + panelWidth}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e3e3e3"/>`);
      parts.push(`<text x="${x0 - 5}" y="${Y(t) + 4}" text-anchor="end">${dec === null ? +t.toPrecision(2) : t.toFixed(dec)}</text>`);
    }
    for (const t of niceTicks(xlo, xhi, false)) {
      parts.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${y0}" y2="${y1}" stroke="${[70, 80, 90].includes(t) ? '#bbb' : '#eee'}"/>`);
      parts.push(`<text x="${X(t)}" y="${y1 + 14}" text-anchor="middle">${t}</text>`);
    }
    parts.push(`<rect x="${x0}" y="${y0}" width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${x0 + panelWidth / 2}" y="${y1 + 32}" text-anchor="middle">${esc(panel.xLabel)}</text>`);
    parts.push(`<text transform="translate(${x0 - 46} ${y0 + panelHeight / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel)}</text>`);
    (panel.hlines ?? []).forEach((h, hi) => {
      parts.push(`<line x1="${x0}" x2="${x0 + panelWidth}" y1="${Y(h.y)}" y2="${Y(h.y)}" stroke="${h.color}" stroke-width="1.2" stroke-dasharray="2,3"/>`);
      const ly = y1 + padB + (panel.series.length + hi) * legendH;
      parts.push(`<line x1="${x0}" x2="${x0 + 26}" y1="${ly}" y2="${ly}" stroke="${h.color}" stroke-width="1.5" stroke-dasharray="2,3"/>`);
      parts.push(`<text x="${x0 + 32}" y="${ly + 4}">${esc(h.label)}</text>`);
    });
    // Paths last-to-first, so the first series (ours) is drawn on top; legend in order.
    [...panel.series].reverse().forEach((s) => {
      const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && x >= xlo && x <= xhi && (!panel.logY || y > 0));
      if (p.length) {
        const d = p.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
        parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.8}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.label)}</title></path>`);
        for (const [x, y] of s.markers ? p : []) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
      }
      for (const [x, y] of (s.markerPoints ?? []).filter(([x, y]) => x >= xlo && x <= xhi && Number.isFinite(y) && (!panel.logY || y > 0))) {
        parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.6" fill="#fff" stroke="${s.color}" stroke-width="1.4"/>`);
      }
    });
    panel.series.forEach((s, si) => {
      const ly = y1 + padB + si * legendH;
      parts.push(`<line x1="${x0}" x2="${x0 + 26}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
      parts.push(`<text x="${x0 + 32}" y="${ly + 4}">${esc(s.label)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A small SVG bar chart: side-by-side panels, each with labelled bars and optional dashed
 * reference lines. panels: [{ title, yLabel, bars: [{ label, value, color?, text? }],
 * hlines?: [{ y, label, color? }] }]. Returns the SVG text.
 */
export function barChart({ title, subtitle = '', panels, barWidth = 46, panelHeight = 260 }) {
  const padL = 62, padR = 20, padT = 56 + 14 * [subtitle].flat().length, padB = 74;
  const slot = barWidth + 30; // room for a label under each bar
  // Wide enough for the bars and for the panel's title (about 7.5 px a character at 13 px).
  const widths = panels.map((p) => padL + padR + Math.max(Math.max(2, p.bars.length) * slot, p.title.length * 7.5));
  const W = widths.reduce((a, b) => a + b, 0) + 20;
  const H = padT + panelHeight + padB + 16 * Math.max(0, ...panels.map((p) => p.hlines?.length ?? 0));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...[subtitle].flat().map((line, i) => `<text x="16" y="${40 + i * 14}" font-size="11" fill="#444">${esc(line)}</text>`),
  ];
  let x0 = 10;
  panels.forEach((panel, pi) => {
    const left = x0 + padL, y1 = padT + panelHeight;
    const values = [...panel.bars.map((b) => b.value), ...(panel.hlines ?? []).map((h) => h.y)].filter(Number.isFinite);
    const ticks = niceTicks(0, Math.max(1e-9, ...values) * 1.08, false);
    const top = Math.max(ticks.at(-1), Math.max(1e-9, ...values) * 1.1); // room for the value labels
    const Y = (v) => y1 - (v / top) * panelHeight;
    parts.push(`<text x="${left}" y="${padT - 12}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    for (const t of ticks) {
      parts.push(`<line x1="${left}" x2="${x0 + widths[pi] - padR}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e3e3e3"/>`);
      parts.push(`<text x="${left - 5}" y="${Y(t) + 4}" text-anchor="end">${+t.toPrecision(3)}</text>`);
    }
    parts.push(`<text transform="translate(${left - 46} ${padT + panelHeight / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel ?? '')}</text>`);
    panel.bars.forEach((b, i) => {
      const x = left + 8 + i * slot + (slot - barWidth) / 2 - 8;
      if (Number.isFinite(b.value)) {
        parts.push(`<rect x="${x}" y="${Y(b.value)}" width="${barWidth}" height="${y1 - Y(b.value)}" fill="${b.color ?? '#4a7bd0'}"><title>${esc(b.label)}: ${b.value}</title></rect>`);
        parts.push(`<text x="${x + barWidth / 2}" y="${Y(b.value) - 4}" text-anchor="middle">${esc(b.text ?? +b.value.toPrecision(3))}</text>`);
      }
      String(b.label).split('\n').forEach((line, j) => parts.push(`<text x="${x + barWidth / 2}" y="${y1 + 14 + j * 12}" text-anchor="middle">${esc(line)}</text>`));
    });
    (panel.hlines ?? []).forEach((h, hi) => {
      const color = h.color ?? '#c00';
      parts.push(`<line x1="${left}" x2="${x0 + widths[pi] - padR}" y1="${Y(h.y)}" y2="${Y(h.y)}" stroke="${color}" stroke-width="1.2" stroke-dasharray="4,3"/>`);
      const ly = y1 + padB - 18 + hi * 16;
      parts.push(`<line x1="${left}" x2="${left + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="1.5" stroke-dasharray="4,3"/><text x="${left + 32}" y="${ly + 4}">${esc(h.label)}</text>`);
    });
    parts.push(`<line x1="${left}" x2="${x0 + widths[pi] - padR}" y1="${y1}" y2="${y1}" stroke="#888"/>`);
    x0 += widths[pi];
  });
  parts.push('</svg>');
  return parts.join('\n');
}
