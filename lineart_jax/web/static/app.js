// The page: open or drop an image, run the network in a worker (WebGPU where the
// browser offers it, WebAssembly otherwise: worker.js), show the line art beside it,
// set its line style, threshold it, download it as PNG at the input's full size.
const MAX_PIXELS = 80e6;       // larger images: a message, not a dead tab

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') || 'model.onnx';
// ?backend=wasm: CPU only; ?tile=N: the tile side (multiple of 8; default: 768 on
// CPU, from the adapter's limits on GPU); ?gpu_fail_after=N (testing): WebGPU
// 'fails' after N tiles, as when it runs out of memory mid-image.
const prefer = params.get('backend') === 'wasm' ? 'wasm' : 'auto';
// A tile must be a multiple of 8 and leave room for two margins (tiling.js).
const tileParam = Number(params.get('tile')) % 8 === 0 && Number(params.get('tile')) >= 200
    ? Number(params.get('tile')) : null;
const gpuFailAfter = params.has('gpu_fail_after') ? Number(params.get('gpu_fail_after')) : null;
const state = {lines: null, rgb: null, height: 0, width: 0, name: 'image', worker: null,
               busy: false, pending: false, styleDims: 0, forceWasm: false, rerunOnLoad: false};
window.lineart = {state: 'loading', seconds: null, tiles: null, error: null, threads: null,
                  backend: null, adapter: null, styleDims: null, style: null, runs: 0,
                  fallbackReason: null};

// Each style control, with its vector entry (lineart_jax/style.py: offsets from the
// default style, in this order; a model reads the first D, D = 5 or 6).
const STYLE_ENTRIES = [
  ['line-weight', (v) => Math.log2(Number(v))],
  ['detail', (v) => Number(v) - 1],
  ['tone', (v) => Number(v === 'dark')],
  ['blacks', (v) => Number(v === 'ink')],
  ['blacks', (v) => Number(v === 'paint')],
  ['contours', (v) => Number(v === 'all')],
];
const STYLE_CONTROLS = ['line-weight', 'detail', 'tone', 'blacks', 'contours'];
const STYLE_DEFAULTS = {'line-weight': '1', detail: '1', tone: 'drawn', blacks: 'auto', contours: 'drawn'};

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {type: 'module'});
  worker.onmessage = onWorkerMessage;
  worker.onerror = (e) => workerFailed(`worker error: ${e.message || e}`);
  worker.postMessage({type: 'load', url: new URL(modelUrl, location.href).href,
                      prefer: state.forceWasm ? 'wasm' : prefer, gpuFailAfter});
  return worker;
}

function styleVector() {
  return STYLE_ENTRIES.slice(0, state.styleDims).map(([id, f]) => f($(id).value));
}

function styleDescription() {
  return STYLE_CONTROLS.map((id) => `${id.replace('-', ' ')} ${$(id).value}`).join(', ');
}

function showStyleValues() {
  $('line-weight-value').textContent = Number($('line-weight').value).toFixed(2);
  $('detail-value').textContent = Number($('detail').value).toFixed(2);
}

// What the model can draw: no style input (a plain export), the five controls
// before contours (D = 5, the shipped model), or all (D = 6).
function setStyleDims(dims) {
  state.styleDims = dims;
  window.lineart.styleDims = dims;
  for (const id of [...STYLE_CONTROLS, 'style-reset']) {
    $(id).disabled = dims === 0 || (id === 'contours' && dims < 6);
  }
  if (dims < 6) $('contours').value = 'drawn';
  $('style-note').textContent = dims === 0
      ? 'This model has no style input: it draws its default style only.'
      : dims < 6 ? 'contours: this model was made before the contours control (drawn lines only).'
                 : '';
}

function showBackend(msg) {
  const how = msg.backend === 'webgpu'
      ? `WebGPU (${msg.adapter}), tiles of ${msg.gpuTile}`
      : `WebAssembly on the CPU, ${msg.threads} thread${msg.threads > 1 ? 's' : ''}`;
  $('backend').textContent = `runs on: ${how}` +
      (msg.fallbackReason ? ` (not WebGPU: ${msg.fallbackReason.replace(/^WebGPU: /, '')})` : '');
  Object.assign(window.lineart, {backend: msg.backend, threads: msg.threads, adapter: msg.adapter,
                                 fallbackReason: msg.fallbackReason});
}

// The worker falls back from WebGPU to the CPU by itself; should WebGPU take the
// whole worker down (or fail in a way it did not catch), start a CPU-only worker and
// run the image again: never a blank result.
function workerFailed(message) {
  if (window.lineart.backend === 'webgpu' && !state.forceWasm) {
    state.forceWasm = true;
    state.worker.terminate();
    state.busy = false;
    state.rerunOnLoad = !!state.rgb;
    window.lineart.fallbackReason = message;
    status(`WebGPU failed (${message}): going on on the CPU`);
    state.worker = startWorker();  // its 'loaded' runs the image again
    return;
  }
  fail(message);
}

function fail(message) {
  state.busy = false;
  window.lineart.state = 'error';
  window.lineart.error = message;
  $('progress').hidden = true;
  $('cancel').hidden = true;
  status(message, 'error');
}

function onWorkerMessage(event) {
  const msg = event.data;
  if (msg.type === 'loaded') {
    showBackend(msg);
    setStyleDims(msg.styleDims);
    if (state.rerunOnLoad) {  // a CPU worker started after WebGPU took the first one down
      state.rerunOnLoad = false;
      extract();
      return;
    }
    if (!state.busy) {  // (an image opened during a cancel's restart is already queued)
      window.lineart.state = 'ready';
      status('model loaded: open or drop an image');
    }
  } else if (msg.type === 'fallback') {
    showBackend(msg);
    status(`WebGPU failed, going on on the CPU: ${msg.reason}`);
  } else if (msg.type === 'progress') {
    $('progress').max = msg.total;
    $('progress').value = msg.done;
    status(`extracting: tile ${msg.done} of ${msg.total}`);
  } else if (msg.type === 'done') {
    showBackend(msg);
    state.busy = false;
    if (state.pending) {  // the style changed while this ran: run again
      state.pending = false;
      extract();
      return;
    }
    state.lines = msg.lines;
    $('progress').hidden = true;
    $('cancel').hidden = true;
    $('download').disabled = false;
    render();
    const mp = msg.height * msg.width / 1e6;
    window.lineart.seconds = msg.seconds;
    window.lineart.tiles = msg.tiles;
    window.lineart.gpuTiles = msg.gpuTiles;
    window.lineart.tile = msg.tile;
    window.lineart.runs += 1;
    window.lineart.state = 'done';
    status(`${msg.width}x${msg.height}, ${msg.tiles} tile${msg.tiles > 1 ? 's' : ''} of ` +
           `${msg.tile}: ${msg.seconds.toFixed(1)} s (${(msg.seconds / mp).toFixed(2)} s per ` +
           `megapixel; ${msg.backend === 'webgpu' ? 'WebGPU' : 'CPU'})`);
  } else if (msg.type === 'error') {
    workerFailed(msg.message);
  }
}

function render() {
  if (!state.lines) return;
  const {lines, width, height} = state;
  const binarize = $('binarize').checked;
  const threshold = Number($('threshold').value);
  $('threshold-value').textContent = binarize ? threshold.toFixed(2) : 'off';
  const canvas = $('lines');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const px = image.data;
  for (let i = 0; i < lines.length; i++) {
    // As infer's to_uint8: ink where value < threshold, else round(value * 255).
    const v = binarize ? (lines[i] < threshold ? 0 : 255) : Math.round(lines[i] * 255);
    px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = v;
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

async function openImage(file) {
  if (!file) return;
  if (state.busy) cancel();
  state.name = file.name.replace(/\.[^.]*$/, '') || 'image';
  state.lines = null;
  state.rgb = null;
  state.pending = false;
  $('download').disabled = true;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, {colorSpaceConversion: 'none', premultiplyAlpha: 'none'});
  } catch (err) {
    fail(`${file.name}: not an image this browser can decode (${err.message || err})`);
    return;
  }
  const {width, height} = bitmap;
  if (width * height > MAX_PIXELS) {
    fail(`${file.name}: ${width}x${height} = ${(width * height / 1e6).toFixed(0)} megapixels is ` +
         `more than this page handles (${MAX_PIXELS / 1e6}); use python -m lineart_jax.infer`);
    return;
  }
  let rgb;
  try {
    const canvas = $('color');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    ctx.fillStyle = '#fff';  // transparent areas are paper, as infer composites them
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
    }
  } catch (err) {
    fail(`${file.name}: out of memory in the browser (${err.message || err}); use python -m lineart_jax.infer`);
    return;
  }
  state.width = width;
  state.height = height;
  state.rgb = rgb;
  extract();
}

// Runs the loaded image in the current style (the page keeps the pixels: a style
// change needs no new upload).
function extract() {
  if (!state.rgb) return;
  if (state.busy) {
    state.pending = true;
    return;
  }
  state.busy = true;
  window.lineart.state = 'running';
  window.lineart.style = styleVector();
  $('download').disabled = true;
  $('progress').hidden = false;
  $('progress').value = 0;
  $('cancel').hidden = false;
  status(state.styleDims ? `extracting (${styleDescription()})` : 'extracting');
  const rgb = state.rgb.slice();
  state.worker.postMessage({type: 'run', rgb, height: state.height, width: state.width,
                            style: styleVector(), tile: tileParam}, [rgb.buffer]);
}

function cancel() {
  state.worker.terminate();  // the only way to stop a running session
  state.pending = false;  // the image stays: a style change runs it again
  state.worker = startWorker();
  state.busy = false;
  $('progress').hidden = true;
  $('cancel').hidden = true;
  window.lineart.state = 'cancelled';
  status('cancelled');
}

function download() {
  $('lines').toBlob((blob) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${state.name}_lineart.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, 'image/png');
}

$('file').addEventListener('change', (e) => openImage(e.target.files[0]));
$('threshold').addEventListener('input', () => { $('binarize').checked = true; render(); });
$('binarize').addEventListener('change', render);
$('cancel').addEventListener('click', cancel);
for (const id of STYLE_CONTROLS) {
  $(id).addEventListener('input', showStyleValues);
  $(id).addEventListener('change', extract);  // sliders: on release
}
$('style-reset').addEventListener('click', () => {
  for (const id of STYLE_CONTROLS) $(id).value = STYLE_DEFAULTS[id];
  showStyleValues();
  extract();
});
$('download').addEventListener('click', download);
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  openImage(e.dataTransfer.files[0]);
});
showStyleValues();
state.worker = startWorker();
