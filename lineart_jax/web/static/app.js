// The page: open or drop an image, run the network in a worker, show the line art
// beside it, threshold it, download it as PNG at the input's full size.
const TILE = 768;              // lineart_jax.infer's default tile
const MAX_PIXELS = 80e6;       // larger images: a message, not a dead tab

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') || 'model.onnx';
const state = {lines: null, height: 0, width: 0, name: 'image', worker: null, busy: false};
window.lineart = {state: 'loading', seconds: null, tiles: null, error: null, threads: null};

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {type: 'module'});
  worker.onmessage = onWorkerMessage;
  worker.onerror = (e) => fail(`worker error: ${e.message || e}`);
  worker.postMessage({type: 'load', url: new URL(modelUrl, location.href).href});
  return worker;
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
    window.lineart.state = 'ready';
    window.lineart.threads = msg.threads;
    status(`model loaded (${msg.threads} thread${msg.threads > 1 ? 's' : ''}): open or drop an image`);
  } else if (msg.type === 'progress') {
    $('progress').max = msg.total;
    $('progress').value = msg.done;
    status(`extracting: tile ${msg.done} of ${msg.total}`);
  } else if (msg.type === 'done') {
    state.busy = false;
    state.lines = msg.lines;
    $('progress').hidden = true;
    $('cancel').hidden = true;
    $('download').disabled = false;
    render();
    const mp = msg.height * msg.width / 1e6;
    window.lineart.seconds = msg.seconds;
    window.lineart.tiles = msg.tiles;
    window.lineart.state = 'done';
    status(`${msg.width}x${msg.height}, ${msg.tiles} tile${msg.tiles > 1 ? 's' : ''}: ` +
           `${msg.seconds.toFixed(1)} s (${(msg.seconds / mp).toFixed(2)} s per megapixel)`);
  } else if (msg.type === 'error') {
    fail(msg.message);
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
  state.busy = true;
  window.lineart.state = 'running';
  $('progress').hidden = false;
  $('progress').value = 0;
  $('cancel').hidden = false;
  status('extracting');
  state.worker.postMessage({type: 'run', rgb, height, width, tile: TILE}, [rgb.buffer]);
}

function cancel() {
  state.worker.terminate();  // the only way to stop a running session
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
$('download').addEventListener('click', download);
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  openImage(e.dataTransfer.files[0]);
});
state.worker = startWorker();
