"""CLI: line art in the browser, the network running inside the page.

  python -m lineart_jax.web [--model FILE.onnx | --pretrained] [--port 8765] [--no-browser]

Serves ``lineart_jax/web/static`` (``index.html``, ``app.js``, ``worker.js``,
``tiling.js`` and onnxruntime-web's WebAssembly and WebGPU builds in ``vendor/``)
and the model as ``model.onnx`` on 127.0.0.1 only, and prints the URL.  Without
``--model`` it exports the shipped model to ONNX on first use and caches it in
``~/.cache/lineart_jax/web``, in float32: WebGPU adapters without the optional
``shader-f16`` feature (Chromium's software adapter among them) cannot run a
float16 model, and the download is a local copy.  (Float16 was served before:
the same speed and output on the CPU, measured at most 1 level from float32.)

The page decodes the image, cuts it into the tiles ``lineart_jax/tiling.py``
cuts (same margin and seams, so its output equals ``infer --model``'s) and runs
them in a Web Worker, on WebGPU when the browser offers an adapter and on
WebAssembly otherwise (``static/worker.js``); nothing is uploaded.  Its line-style
controls feed the model's ``style`` input (``lineart_jax.style``).  The server
sends the cross-origin isolation headers that let onnxruntime-web use threads.
The page also works from any static host: copy ``static/`` and put the exported
model beside ``index.html`` as ``model.onnx`` (or pass ``?model=URL``); without
those headers it runs on one thread.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import os
import sys
import threading
import webbrowser

ORT_VERSION = "1.30.0"  # onnxruntime-web, vendored in static/vendor (see its README)
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "lineart_jax", "web")
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".onnx": "application/octet-stream", ".html": "text/html; charset=utf-8"}


def shipped_model_onnx(cache: str = CACHE) -> str:
  """The shipped model as float32 ONNX, exported once per version of its weights."""
  from lineart_jax import pretrained
  weights = os.path.join(pretrained.HERE, pretrained.WEIGHTS_FILE)
  with open(weights, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()[:12]
  path = os.path.join(cache, f"lineart-{digest}-float32.onnx")
  if not os.path.isfile(path):
    from lineart_jax.export import export_model
    print(f"exporting the shipped model to {path} (once)", file=sys.stderr)
    os.makedirs(cache, exist_ok=True)
    export_model(pretrained.PRETRAINED, path + ".tmp", "onnx", dtype="float32")
    os.replace(path + ".tmp", path)
  return path


class Handler(http.server.SimpleHTTPRequestHandler):
  """Static files plus ``/model.onnx``, with the headers threads need."""

  def __init__(self, *args, model: str, **kwargs):
    self.model = model
    super().__init__(*args, directory=STATIC, **kwargs)

  def translate_path(self, path):
    if path.split("?", 1)[0] == "/model.onnx":
      return self.model
    return super().translate_path(path)

  def guess_type(self, path):
    return TYPES.get(os.path.splitext(path)[1].lower()) or super().guess_type(path)

  def end_headers(self):
    self.send_header("Cross-Origin-Opener-Policy", "same-origin")
    self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
    self.send_header("Cache-Control", "no-cache")
    super().end_headers()

  def log_message(self, format, *args):  # quiet: one line per request is noise here
    pass


def serve(model: str, port: int = 8765) -> http.server.ThreadingHTTPServer:
  """A started server (in a daemon thread) on 127.0.0.1; ``server.server_port``."""
  server = http.server.ThreadingHTTPServer(
      ("127.0.0.1", port), functools.partial(Handler, model=os.path.abspath(model)))
  threading.Thread(target=server.serve_forever, daemon=True).start()
  return server


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  src = p.add_mutually_exclusive_group()
  src.add_argument("--model", help="an exported .onnx file (python -m lineart_jax.export)")
  src.add_argument("--pretrained", action="store_true",
                   help="the shipped model, exported on first use (the default)")
  p.add_argument("--port", type=int, default=8765, help="0: any free port")
  p.add_argument("--no-browser", action="store_true", help="only print the URL")
  args = p.parse_args(argv)
  if args.model:
    if not os.path.isfile(args.model):
      print(f"error: {args.model}: no such ONNX file", file=sys.stderr)
      return 2
    model = args.model
  else:
    try:
      model = shipped_model_onnx()
    except ImportError as e:
      print(f"error: exporting the shipped model needs the [export] extra: pip install "
            f"'lineart_jax[export]' ({e})", file=sys.stderr)
      return 2
  try:
    server = serve(model, args.port)
  except OSError as e:
    print(f"error: cannot listen on 127.0.0.1:{args.port} ({e.strerror}); try --port 0",
          file=sys.stderr)
    return 2
  url = f"http://127.0.0.1:{server.server_port}/"
  print(f"serving {model} at {url} (Ctrl-C to stop)", flush=True)
  if not args.no_browser:
    webbrowser.open(url)
  try:
    threading.Event().wait()
  except KeyboardInterrupt:
    pass
  server.shutdown()
  return 0
