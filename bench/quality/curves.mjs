// Rate/quality curves: points { q, bytes, score } of one encoder on one image.

// The monotone part of a curve, by bytes: a point is kept only if it scores higher than every
// smaller file (a bigger file that scores lower is never the one to pick).
export function monotone(points) {
  const pts = points.filter((p) => Number.isFinite(p.bytes) && Number.isFinite(p.score)).sort((a, b) => a.bytes - b.bytes || b.score - a.score);
  const out = [];
  for (const p of pts) if (!out.length || p.score > out[out.length - 1].score) out.push(p);
  return out;
}

// Bytes at `score`, interpolating log(bytes) linearly in score between the two points around it;
// NaN outside the measured range (no extrapolation).
export function bytesAtScore(points, score) {
  const m = monotone(points);
  for (let i = 0; i < m.length; i++) {
    if (m[i].score === score) return m[i].bytes;
    if (i > 0 && m[i - 1].score < score && score < m[i].score) {
      const t = (score - m[i - 1].score) / (m[i].score - m[i - 1].score);
      return Math.exp(Math.log(m[i - 1].bytes) + t * (Math.log(m[i].bytes) - Math.log(m[i - 1].bytes)));
    }
  }
  return NaN;
}

// Score at `bytes` (log-bytes linear), NaN outside the range: used for the averaged chart.
export function scoreAtBytes(points, bytes) {
  const m = monotone(points);
  const lb = Math.log(bytes);
  for (let i = 1; i < m.length; i++) {
    const a = Math.log(m[i - 1].bytes), b = Math.log(m[i].bytes);
    if (a <= lb && lb <= b) return b === a ? m[i].score : m[i - 1].score + ((lb - a) / (b - a)) * (m[i].score - m[i - 1].score);
  }
  return NaN;
}
