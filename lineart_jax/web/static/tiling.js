// The tiling of lineart_jax/tiling.py, line for line, so the page's output equals
// `infer`'s: edge-pad to a multiple of 8, fixed windows starting at multiples of 8
// (the last flush with the padded edge), each keeping the part nearer its centre.
export const STRIDE = 8;
export const MARGIN = 96;

export function roundUp(n, k = STRIDE) { return Math.ceil(n / k) * k; }

export function windowStarts(length, tile, margin = MARGIN) {
  if (length <= tile) return [0];
  const step = Math.floor((tile - 2 * margin) / STRIDE) * STRIDE;
  if (step <= 0) throw new Error(`tile ${tile} is too small for margin ${margin}`);
  const starts = new Set();
  for (let s = 0; s < length - tile; s += step) starts.add(s);
  starts.add(length - tile);
  return [...starts].sort((a, b) => a - b);
}

export function seams(starts, tile, length) {
  return starts.map((s, i) => [
    i === 0 ? 0 : Math.floor((starts[i - 1] + tile + s) / 2),
    i === starts.length - 1 ? length : Math.floor((s + tile + starts[i + 1]) / 2),
  ]);
}

// [{y, x, y0, y1, x0, x1}]: window start and the rows/columns it keeps.
export function tiles(height, width, tile) {
  const h8 = roundUp(height), w8 = roundUp(width);
  const ys = windowStarts(h8, tile), xs = windowStarts(w8, tile);
  const ySeams = seams(ys, Math.min(tile, h8), h8), xSeams = seams(xs, Math.min(tile, w8), w8);
  const out = [];
  ys.forEach((y, i) => xs.forEach((x, j) => out.push(
      {y, x, y0: ySeams[i][0], y1: ySeams[i][1], x0: xSeams[j][0], x1: xSeams[j][1]})));
  return out;
}

// RGB uint8 (h*w*3) edge-padded at the bottom/right to multiples of 8.
export function padToMultiple(rgb, h, w) {
  const h8 = roundUp(h), w8 = roundUp(w);
  const out = new Uint8Array(h8 * w8 * 3);
  for (let y = 0; y < h8; y++) {
    const sy = Math.min(y, h - 1);
    for (let x = 0; x < w8; x++) {
      const sx = Math.min(x, w - 1), d = (y * w8 + x) * 3, s = (sy * w + sx) * 3;
      out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2];
    }
  }
  return {rgb: out, h8, w8};
}
