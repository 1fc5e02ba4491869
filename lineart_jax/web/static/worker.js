// Runs the exported network (ONNX, onnxruntime-web) off the page's thread, tile by
// tile exactly as lineart_jax/tiling.py cuts images, on one of two backends:
//
// * 'webgpu': onnxruntime-web's WebGPU execution provider (vendor/ort.min.mjs, its
//   JSEP build: vendor/README.md says why not ort.webgpu.min.mjs), when the browser
//   offers a WebGPU adapter and a first small run on it works (a float16 model on an
//   adapter without 'shader-f16' does not: the server sends float32);
// * 'wasm': its WebAssembly build on CPU threads (vendor/ort.wasm.min.mjs) otherwise,
//   or when WebGPU fails mid-image (an error, a lost device, an out-of-memory report,
//   an output that is no picture): the worker then loads the WebAssembly build and
//   goes on with the tiles not yet done, so a result always comes.
//
// Both builds are vendored (vendor/README.md); nothing is downloaded at run time.
import {padToMultiple, tiles} from './tiling.js';

const VENDOR = new URL('./vendor/', import.meta.url).href;
// Threads need a cross-origin isolated page (python -m lineart_jax.web sends the
// headers); elsewhere one thread.
const THREADS = self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;

// CPU: lineart_jax.infer's tile.  GPU: one tile per call, as large as the adapter lets
// one tensor be: the pixels of a call decide the largest tensor's size whether they
// come as one big tile or as several small ones, and a big tile recomputes less of
// its neighbours' margins (a 768 tile keeps 56 % of its pixels, 1536 keeps 77 %).
// GPU_BYTES_PER_PIXEL bounds the largest activation per input pixel, float32: the
// shipped model (width 1/2) peaks at 24 channels at full resolution (96 B), the
// full-width network at 48 (192 B).  Tiling is exact at any tile size, so the result
// does not depend on it.
const CPU_TILE = 768;
const GPU_TILE_MAX = 1536;
const GPU_BYTES_PER_PIXEL = 256;

let ort = null;          // the onnxruntime-web module of the backend in use
let session = null;
let backend = null;      // 'webgpu' | 'wasm'
let modelUrl = null;
let gpu = null;          // {adapter, description, tile, error, lost}
let styleDims = 0;
let fallbackReason = null;
let failAfter = Infinity;  // testing: ?gpu_fail_after=N makes the GPU 'fail' after N tiles

function roundDown8(n) { return Math.floor(n / 8) * 8; }

function firstLine(err) {
  return String((err && err.message) || err).trim().split('\n')[0].slice(0, 200);
}

async function ortModule(kind) {
  const mod = kind === 'webgpu' ? await import('./vendor/ort.min.mjs')
                                : await import('./vendor/ort.wasm.min.mjs');
  mod.env.wasm.wasmPaths = VENDOR;
  mod.env.wasm.numThreads = THREADS;
  return mod;
}

function readStyleDims(sess) {
  // The style input is (N, D): D = 5 for models made before the contours entry,
  // 6 since (lineart_jax/style.py); no 'style' input: a plain export, default style only.
  if (!sess.inputNames.includes('style')) return 0;
  const meta = (sess.inputMetadata || []).find((m) => m.name === 'style');
  const d = meta && meta.shape ? Number(meta.shape[1]) : NaN;
  return Number.isInteger(d) && d > 0 ? d : 5;
}

function gpuTile(adapter) {
  const limit = Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
  const side = roundDown8(Math.sqrt(limit / GPU_BYTES_PER_PIXEL));
  return Math.max(CPU_TILE, Math.min(GPU_TILE_MAX, side));
}

function describeAdapter(adapter) {
  const info = adapter.info || {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'GPU';
}

async function startWebGpu(url) {
  if (!self.navigator || !navigator.gpu) throw new Error('this browser has no WebGPU');
  const adapter = await navigator.gpu.requestAdapter({powerPreference: 'high-performance'});
  if (!adapter) throw new Error('no WebGPU adapter');
  const mod = await ortModule('webgpu');
  mod.env.webgpu.adapter = adapter;
  mod.env.webgpu.powerPreference = 'high-performance';
  const sess = await mod.InferenceSession.create(url, {executionProviders: ['webgpu']});
  const state = {adapter, description: describeAdapter(adapter), tile: gpuTile(adapter),
                 error: null, lost: null};
  const device = mod.env.webgpu.device;
  if (device && device.addEventListener) {
    device.addEventListener('uncapturederror', (e) => { state.error = String(e.error && e.error.message || e.error); });
    device.lost.then((info) => { state.lost = info.message || info.reason || 'device lost'; });
  }
  ort = mod; session = sess; backend = 'webgpu'; gpu = state;
  styleDims = readStyleDims(sess);
  // A first small run: WebGPU that starts but cannot compute falls back here.
  await predict(new Uint8Array(64 * 64 * 3).fill(200), 64, 64, null);
}

async function startWasm(url) {
  const mod = await ortModule('wasm');
  const sess = await mod.InferenceSession.create(url, {executionProviders: ['wasm']});
  ort = mod; session = sess; backend = 'wasm';
  styleDims = readStyleDims(sess);
}

async function load({url, prefer, gpuFailAfter}) {
  modelUrl = url;
  if (Number.isFinite(gpuFailAfter)) failAfter = gpuFailAfter;
  if (prefer !== 'wasm') {
    try {
      await startWebGpu(url);
      return;
    } catch (err) {
      fallbackReason = `WebGPU: ${firstLine(err)}`;
      await release();
    }
  }
  await startWasm(url);
}

async function release() {
  if (session) {
    try { await session.release(); } catch (err) { /* a lost device may refuse */ }
  }
  session = null;
  gpu = gpu && {...gpu, released: true};
}

// One window (th x tw x 3 uint8) -> th x tw floats; on WebGPU, anything wrong throws.
async function predict(window_, th, tw, style) {
  const feeds = {[session.inputNames[0]]: new ort.Tensor('uint8', window_, [1, th, tw, 3])};
  if (styleDims) {
    const v = new Float32Array(styleDims);
    if (style) v.set(style.slice(0, styleDims));
    feeds.style = new ort.Tensor('float32', v, [1, styleDims]);
  }
  const result = await session.run(feeds);
  const pred = result[session.outputNames[0]].data;
  if (backend === 'webgpu') {
    if (gpu.lost) throw new Error(`GPU device lost: ${gpu.lost}`);
    if (gpu.error) throw new Error(`GPU error: ${gpu.error}`);
    let finite = true, zeros = true;
    for (let i = 0; i < pred.length; i++) {
      const v = pred[i];
      if (!Number.isFinite(v)) { finite = false; break; }
      if (v !== 0) zeros = false;
    }
    // An all-zero output is a buffer the GPU never wrote (the network's output is
    // never exactly 0 everywhere): no picture, as a NaN is none.
    if (!finite || zeros) throw new Error('the GPU returned no picture (NaN or all zeros)');
  }
  return pred;
}

async function fallBack(err) {
  fallbackReason = `WebGPU failed mid-image: ${firstLine(err)}`;
  await release();
  await startWasm(modelUrl);
  postMessage({type: 'fallback', reason: fallbackReason, ...about()});
}

function about() {
  return {backend, threads: ort ? ort.env.wasm.numThreads : THREADS, styleDims,
          adapter: gpu ? gpu.description : null, gpuTile: gpu ? gpu.tile : null,
          fallbackReason};
}

async function run({rgb, height, width, style, tile}) {
  const start = performance.now();
  const {rgb: padded, h8, w8} = padToMultiple(rgb, height, width);
  const out = new Float32Array(h8 * w8);
  const filled = new Uint8Array(h8 * w8);  // pixels some window already gave exactly
  let count = 0, gpuTiles = 0;
  const tileFor = () => tile || (backend === 'webgpu' ? gpu.tile : CPU_TILE);
  let used = tileFor();
  let jobs = tiles(height, width, used);
  for (let i = 0; i < jobs.length; i++) {
    const {y, x, y0, y1, x0, x1} = jobs[i];
    let todo = false;  // after a fallback, windows whose kept part the GPU gave are skipped
    for (let r = y0; r < y1 && !todo; r++) {
      for (let c = x0; c < x1; c++) if (!filled[r * w8 + c]) { todo = true; break; }
    }
    if (!todo) continue;
    const th = Math.min(used, h8), tw = Math.min(used, w8);
    const window_ = new Uint8Array(th * tw * 3);
    for (let r = 0; r < th; r++) {
      const from = ((y + r) * w8 + x) * 3;
      window_.set(padded.subarray(from, from + tw * 3), r * tw * 3);
    }
    let pred;
    try {
      if (backend === 'webgpu' && gpuTiles >= failAfter) throw new Error('out of memory (simulated: gpu_fail_after)');
      pred = await predict(window_, th, tw, style);
    } catch (err) {
      if (backend !== 'webgpu') throw err;
      await fallBack(err);  // every pixel written so far is exact: go on from there on CPU
      used = tileFor();
      jobs = tiles(height, width, used);
      i = -1;
      continue;
    }
    if (backend === 'webgpu') gpuTiles++;
    count++;
    for (let r = y0; r < y1; r++) {
      for (let c = x0; c < x1; c++) {
        out[r * w8 + c] = pred[(r - y) * tw + (c - x)];
        filled[r * w8 + c] = 1;
      }
    }
    postMessage({type: 'progress', done: i + 1, total: jobs.length});
  }
  const lines = new Float32Array(height * width);
  for (let r = 0; r < height; r++) lines.set(out.subarray(r * w8, r * w8 + width), r * width);
  for (let i = 0; i < lines.length; i++) lines[i] = Math.min(1, Math.max(0, lines[i]));
  postMessage({type: 'done', lines, height, width, tiles: count, gpuTiles, tile: used, ...about(),
               seconds: (performance.now() - start) / 1000}, [lines.buffer]);
}

// One message at a time: a 'run' sent while the model still loads waits for it.
let queue = Promise.resolve();
self.onmessage = (event) => { queue = queue.then(() => handle(event.data)); };

async function handle(msg) {
  try {
    if (msg.type === 'load') {
      await load(msg);
      postMessage({type: 'loaded', ...about()});
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
}
