"""The browser page (lineart_jax.web) in a real headless Chromium: on both of its
backends, the page's PNG equals ``infer --model``'s on an image of several tiles,
in the default style and in a non-default one set with the page's controls.

* WebAssembly: Chromium without WebGPU (no adapter), so the page falls back by
  itself; 4 tiles of 768, the threshold slider, then a style set after the image
  was loaded (no new upload); a model with 5 style entries (as the shipped one):
  the contours control is off.
* WebGPU: Chromium's software adapter (``--enable-unsafe-webgpu
  --use-webgpu-adapter=swiftshader``, a page on 127.0.0.1); 2 tiles of 256 (the
  adapter runs 80-160 s per megapixel of tiles on 2 cores, so a small image), contours
  and two more controls set; then WebGPU made to fail after one tile
  (``?gpu_fail_after=1``): the page goes on on WebAssembly, same result.
* A model without a style input: every style control off, the image runs.

Needs Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it) and
Playwright's Python driver (the ``[test]`` extra; it downloads no browser).
Without the browser the tests are skipped, unless ``LINEART_REQUIRE_BROWSER=1``
(set by ``.ci/run``) makes that a failure.  ``LINEART_WEB_SCREENSHOT=FILE``
keeps the screenshot there; ``LINEART_WEB_MODEL=FILE.onnx`` tests another model
on WebAssembly (the README's screenshot and speed: the shipped model).
"""

import json
import os
import shutil
import subprocess
import sys
import time

import cv2
import jax
import numpy as np
import pytest

from lineart_jax import calibrate, export, infer, pretrained
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_color
from lineart_jax.model import STYLE_SUFFIX, AutoEncoder, ModelConfig, init_variables
from lineart_jax.style import Style

from subprocess_env import REPO, cpu_env

CHROMIUM = os.environ.get("LINEART_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
NO_GPU = ["--disable-gpu"]
SOFTWARE_WEBGPU = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]


def _browser_or_skip():
  if not os.path.exists(CHROMIUM):
    if os.environ.get("LINEART_REQUIRE_BROWSER"):
      pytest.fail(f"{CHROMIUM} not found, and LINEART_REQUIRE_BROWSER is set")
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
  return pytest.importorskip("playwright.sync_api")


def _tiny_model(path, style_dims):
  """A small untrained network whose BatchNorm statistics are those of real images
  (one training-mode pass, momentum 0), exported to ONNX: fast in the page, and its
  output is a picture (random weights alone give 0.5 everywhere).  ``style_dims``
  5 (as the shipped model), 6 (with contours) or 0 (no style input); the style
  layers random (they start at zero), so every entry of the vector changes the
  output and a page feeding them in another order would not match ``infer``."""
  model = AutoEncoder(width=0.125, bn_momentum=0.0, style_dims=style_dims)
  variables = dict(init_variables(model, 7))
  images = np.stack([synthetic.make_pair(5, i, 128)[0] for i in range(4)])
  _, updates = model.apply(variables, images.astype(np.float32) / 255.0, train=True,
                           mutable=["batch_stats"])
  variables = jax.tree.map(np.asarray, {**variables, **updates})
  rng = np.random.default_rng(style_dims)
  params = dict(variables["params"])
  for name in params:
    if name.endswith(STYLE_SUFFIX):
      params[name] = jax.tree.map(lambda a: rng.normal(0, 0.3, a.shape).astype(a.dtype),
                                  params[name])
  variables = calibrate.fold({**variables, "params": params}, 20.0, 0.0)
  folder = os.path.join(os.path.dirname(path), f"weights{style_dims}")
  pretrained.save(ModelConfig(0.125, style_dims=style_dims), variables, {"step": 0}, folder)
  export.export_model(folder, path, "onnx")
  return path


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
  folder = tmp_path_factory.mktemp("web_models")
  return {dims: _tiny_model(str(folder / f"tiny{dims}.onnx"), dims) for dims in (5, 6, 0)}


def _drawing(path, height, width, crop=0):
  color, _ = synthetic.make_pair(11, 0, 1000)
  cv2.imwrite(str(path), cv2.cvtColor(color[crop:crop + height, crop:crop + width],
                                      cv2.COLOR_RGB2BGR))
  return path


def _infer(model, image, style=None, threshold=None):
  """What python -m lineart_jax.infer --model=MODEL [style flags] writes, in-process."""
  lines = infer.extract(read_color(str(image)), infer.OnnxExtractor(model, style=style), None)
  return infer.to_uint8(lines, threshold)


def _start_server(model):
  proc = subprocess.Popen([sys.executable, "-m", "lineart_jax.web", f"--model={model}",
                           "--port=0", "--no-browser"], cwd=REPO, env=cpu_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  line = proc.stdout.readline()
  assert " at http://127.0.0.1:" in line, line + proc.stdout.read()[-2000:]
  return proc, line.split(" at ")[1].split()[0]


class Page:
  """One served model in one headless Chromium."""

  def __init__(self, sync_api, model, args, tmp_path):
    self.tmp_path, self.errors = tmp_path, []
    self.server, self.url = _start_server(model)
    self.pw = sync_api.sync_playwright().start()
    self.browser = self.pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + args)

  def open(self, query=""):
    self.page = self.browser.new_page(viewport={"width": 1400, "height": 900})
    self.page.on("pageerror", lambda e: self.errors.append(str(e)))
    # Nothing is fetched from elsewhere: both onnxruntime-web builds are vendored.
    self.page.on("request", lambda r: r.url.startswith(self.url) or r.url.startswith(
        ("blob:", "data:")) or self.errors.append(f"fetched {r.url}"))
    self.page.goto(self.url + query)
    self.page.wait_for_function("['ready', 'error'].includes(window.lineart.state)",
                                timeout=120_000)
    state = self.state()
    assert state["state"] == "ready", (state, self.errors)
    return state

  def state(self):
    return self.page.evaluate("window.lineart")

  def wait_done(self, runs):
    self.page.wait_for_function(
        f"window.lineart.state === 'error' || (window.lineart.state === 'done' && "
        f"window.lineart.runs >= {runs})", timeout=600_000)
    state = self.state()
    assert state["state"] == "done", (state, self.errors)
    return state

  def set_style(self, **controls):
    """Sets style controls as a user does; each change runs the loaded image again."""
    self.page.evaluate(
        "(controls) => { for (const [id, v] of controls) { const e = document.getElementById(id); "
        "e.value = v; e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change')); } }",
        [[name.replace("_", "-"), str(value)] for name, value in controls.items()])

  def download(self, name):
    with self.page.expect_download() as download:
      self.page.click("#download")
    download.value.save_as(self.tmp_path / name)
    return download.value, cv2.imread(str(self.tmp_path / name), cv2.IMREAD_GRAYSCALE)

  def close(self):
    try:
      self.browser.close()
      self.pw.stop()
    finally:
      self.server.terminate()
      self.server.wait(timeout=30)


def _assert_close(got, want, what):
  assert got.shape == want.shape, what
  diff = np.abs(got.astype(int) - want.astype(int))
  assert diff.max() <= 2, (what, diff.max(), np.argwhere(diff > 2)[:5])


def test_page_on_webassembly_equals_infer_thresholds_and_styles(tmp_path, tiny_models):
  sync_api = _browser_or_skip()
  model = os.environ.get("LINEART_WEB_MODEL") or tiny_models[5]
  # 1000 x 900: 2 x 2 tiles of 768 (windows at 0 and 232/136, seams in the overlaps)
  image = _drawing(tmp_path / "drawing.png", 900, 1000)
  want, want_binary = _infer(model, image), _infer(model, image, threshold=0.5)
  assert want.shape == (900, 1000) and want.std() > 2  # a picture, not a constant
  style = Style(line_weight=1.5, detail=0.5, tone="dark", blacks="ink")
  want_style = _infer(model, image, style)
  assert np.abs(want_style.astype(int) - want).max() > 20  # the style draws otherwise

  page = Page(sync_api, model, NO_GPU, tmp_path)
  try:
    ready = page.open()
    # No WebGPU adapter in this browser: WebAssembly, chosen by the page itself.
    assert ready["backend"] == "wasm" and "WebGPU" in ready["fallbackReason"], ready
    assert "WebAssembly" in page.page.inner_text("#backend")
    # A model with 5 style entries (made before contours): contours off, with a note.
    assert ready["styleDims"] == 5
    assert page.page.is_disabled("#contours") and page.page.is_enabled("#line-weight")
    assert "before the contours" in page.page.inner_text("#style-note")

    start = time.perf_counter()
    page.page.set_input_files("#file", str(image))
    result = page.wait_done(1)
    assert result["tiles"] == 4 and result["tile"] == 768 and result["style"] == [0] * 5
    print(f"page (WebAssembly): {result['seconds']:.2f} s for 0.9 MP ({result['threads']} "
          f"threads); wall {time.perf_counter() - start:.2f} s")
    download, got = page.download("page.png")
    assert download.suggested_filename == "drawing_lineart.png"
    _assert_close(got, want, "default style")

    page.page.screenshot(path=str(tmp_path / "page_screenshot.png"))
    keep = os.environ.get("LINEART_WEB_SCREENSHOT")
    if keep:
      shutil.copyfile(tmp_path / "page_screenshot.png", keep)

    page.page.fill("#threshold", "0.5")  # the slider binarizes, as infer --threshold 0.5
    page.page.dispatch_event("#threshold", "input")
    _, binary = page.download("page_binary.png")
    assert set(np.unique(binary)) <= {0, 255} and not np.array_equal(binary, got)
    assert np.mean(binary != want_binary) < 1e-3  # values within float rounding of 0.5
    page.page.uncheck("#binarize")

    # A style on the loaded image: four changes while it runs, one final result.
    page.set_style(line_weight=1.5, detail=0.5, tone="dark", blacks="ink")
    result = page.wait_done(2)
    np.testing.assert_allclose(result["style"], style.vector(5), atol=1e-6)
    _, got_style = page.download("page_style.png")
    _assert_close(got_style, want_style, style.describe())
    assert not page.errors, page.errors
  finally:
    page.close()


def test_page_on_webgpu_equals_infer_and_falls_back_mid_image(tmp_path, tiny_models):
  sync_api = _browser_or_skip()
  model = tiny_models[6]
  # 320 x 256 in tiles of 256: windows at x = 0 and 64, seam at x = 160.
  image = _drawing(tmp_path / "small.png", 256, 320, crop=300)
  style = Style(line_weight=0.7, blacks="paint", contours="all")
  want_style, want = _infer(model, image, style), _infer(model, image)
  assert np.abs(want_style.astype(int) - want).max() > 20

  page = Page(sync_api, model, SOFTWARE_WEBGPU, tmp_path)
  try:
    ready = page.open("?tile=256")
    assert ready["backend"] == "webgpu", ready  # Chromium's software adapter
    assert "swiftshader" in ready["adapter"].lower() and ready["styleDims"] == 6
    assert "WebGPU" in page.page.inner_text("#backend")
    assert page.page.is_enabled("#contours") and not page.page.inner_text("#style-note")
    page.set_style(line_weight=0.7, blacks="paint", contours="all")  # before the image
    page.page.set_input_files("#file", str(image))
    result = page.wait_done(1)
    assert result["backend"] == "webgpu" and result["tiles"] == result["gpuTiles"] == 2
    np.testing.assert_allclose(result["style"], style.vector(6), atol=1e-6)
    print(f"page (WebGPU, SwiftShader): {result['seconds']:.2f} s for 2 tiles of 256")
    _, got = page.download("page_gpu.png")
    _assert_close(got, want_style, "WebGPU, " + style.describe())

    # WebGPU failing after one tile (as out of memory): the rest on WebAssembly.
    page.page.close()
    page.open("?tile=256&gpu_fail_after=1")
    page.page.set_input_files("#file", str(image))
    result = page.wait_done(1)
    assert result["backend"] == "wasm" and result["gpuTiles"] == 1, result
    assert "mid-image" in result["fallbackReason"], result
    _, got = page.download("page_fallback.png")
    _assert_close(got, want, "WebGPU then WebAssembly")
    assert not page.errors, page.errors
  finally:
    page.close()


def test_page_without_style_input(tmp_path, tiny_models):
  sync_api = _browser_or_skip()
  model = tiny_models[0]
  image = _drawing(tmp_path / "plain.png", 200, 240, crop=300)
  page = Page(sync_api, model, NO_GPU, tmp_path)
  try:
    ready = page.open()
    assert ready["styleDims"] == 0 and ready["backend"] == "wasm"
    for control in ("line-weight", "detail", "tone", "blacks", "contours", "style-reset"):
      assert page.page.is_disabled(f"#{control}"), control
    assert "no style input" in page.page.inner_text("#style-note")
    page.page.set_input_files("#file", str(image))
    assert page.wait_done(1)["style"] == []
    _, got = page.download("page_plain.png")
    _assert_close(got, _infer(model, image), "no style input")
    assert not page.errors, page.errors
  finally:
    page.close()


def test_server_refuses_a_missing_model(tmp_path):
  p = subprocess.run([sys.executable, "-m", "lineart_jax.web", f"--model={tmp_path / 'no.onnx'}",
                      "--no-browser"], cwd=REPO, env=cpu_env(), capture_output=True, text=True,
                     timeout=60)
  assert p.returncode == 2 and "no such ONNX file" in p.stderr
