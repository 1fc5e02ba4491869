// Runs the exported network (ONNX, onnxruntime-web's WebAssembly backend) off the
// page's thread, tile by tile exactly as lineart_jax/tiling.py cuts images.
import * as ort from './vendor/ort.wasm.min.mjs';
import {padToMultiple, tiles} from './tiling.js';

ort.env.wasm.wasmPaths = new URL('./vendor/', import.meta.url).href;
// Threads need a cross-origin isolated page (python -m lineart_jax.web sends the
// headers); elsewhere one thread.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;

let session = null;
let sessionUrl = null;

async function load(url) {
  if (session && sessionUrl === url) return;
  session = await ort.InferenceSession.create(url, {executionProviders: ['wasm']});
  sessionUrl = url;
}

// A style model's export takes a second input, 'style' (N, 5): offsets from the
// default style (lineart_jax/style.py), all zeros unless the page sends a style.
const STYLE_DIMS = 5;

async function run({rgb, height, width, tile, style}) {
  const start = performance.now();
  const {rgb: padded, h8, w8} = padToMultiple(rgb, height, width);
  const th = Math.min(tile, h8), tw = Math.min(tile, w8);
  const jobs = tiles(height, width, tile);
  const out = new Float32Array(h8 * w8);
  const window_ = new Uint8Array(th * tw * 3);
  for (let i = 0; i < jobs.length; i++) {
    const {y, x, y0, y1, x0, x1} = jobs[i];
    for (let r = 0; r < th; r++) {
      const from = ((y + r) * w8 + x) * 3;
      window_.set(padded.subarray(from, from + tw * 3), r * tw * 3);
    }
    const feeds = {[session.inputNames[0]]: new ort.Tensor('uint8', window_, [1, th, tw, 3])};
    if (session.inputNames.includes('style')) {
      feeds.style = new ort.Tensor('float32', Float32Array.from(style || new Array(STYLE_DIMS).fill(0)),
                                   [1, STYLE_DIMS]);
    }
    const pred = (await session.run(feeds))[session.outputNames[0]].data;
    for (let r = y0; r < y1; r++) {
      for (let c = x0; c < x1; c++) out[r * w8 + c] = pred[(r - y) * tw + (c - x)];
    }
    postMessage({type: 'progress', done: i + 1, total: jobs.length});
  }
  const lines = new Float32Array(height * width);
  for (let r = 0; r < height; r++) lines.set(out.subarray(r * w8, r * w8 + width), r * width);
  for (let i = 0; i < lines.length; i++) lines[i] = Math.min(1, Math.max(0, lines[i]));
  postMessage({type: 'done', lines, height, width, tiles: jobs.length,
               seconds: (performance.now() - start) / 1000}, [lines.buffer]);
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'load') {
      await load(msg.url);
      postMessage({type: 'loaded', threads: ort.env.wasm.numThreads});
    } else if (msg.type === 'run') {
      await run(msg);
    }
  } catch (err) {
    const text = String((err && err.message) || err);
    const memory = /memory|allocation|RangeError/i.test(text);
    postMessage({type: 'error', message: memory
        ? `out of memory in the browser (${text}): try a smaller image, or python -m lineart_jax.infer`
        : (msg.type === 'load' ? `could not load the model ${msg.url}: ${text}` : text)});
  }
};
