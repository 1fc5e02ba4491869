"""The browser page (lineart_jax.web) in a real headless Chromium: the page's PNG
equals ``infer --model`` on an image of several tiles, the threshold slider works,
and a screenshot is taken.

Needs Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it) and
Playwright's Python driver (the ``[test]`` extra; it downloads no browser).
Without the browser the test is skipped, unless ``LINEART_REQUIRE_BROWSER=1``
(set by ``.ci/run``) makes that a failure.  ``LINEART_WEB_SCREENSHOT=FILE``
keeps the screenshot there; ``LINEART_WEB_MODEL=FILE.onnx`` tests another model
(the README's screenshot: the shipped model).
"""

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
from lineart_jax.model import AutoEncoder, init_variables

from subprocess_env import REPO, cpu_env

CHROMIUM = os.environ.get("LINEART_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]


def _browser_or_skip():
  if not os.path.exists(CHROMIUM):
    if os.environ.get("LINEART_REQUIRE_BROWSER"):
      pytest.fail(f"{CHROMIUM} not found, and LINEART_REQUIRE_BROWSER is set")
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
  return pytest.importorskip("playwright.sync_api")


def _tiny_model(path):
  """A small untrained network whose BatchNorm statistics are those of real images
  (one training-mode pass, momentum 0), exported to ONNX: fast in the page, and its
  output is a picture (random weights alone give 0.5 everywhere).  With a style
  input, as the shipped model has: the page feeds its second input."""
  model = AutoEncoder(width=0.125, bn_momentum=0.0, style_dims=5)
  variables = dict(init_variables(model, 7))
  images = np.stack([synthetic.make_pair(5, i, 128)[0] for i in range(4)])
  _, updates = model.apply(variables, images.astype(np.float32) / 255.0, train=True,
                           mutable=["batch_stats"])
  variables = jax.tree.map(np.asarray, {**variables, **updates})
  variables = calibrate.fold(variables, 20.0, 0.0)
  folder = os.path.join(os.path.dirname(path), "weights")
  pretrained.save({"width": 0.125, "style_dims": 5}, variables, {"step": 0}, folder)
  export.export_model(folder, path, "onnx")


def _start_server(model):
  proc = subprocess.Popen([sys.executable, "-m", "lineart_jax.web", f"--model={model}",
                           "--port=0", "--no-browser"], cwd=REPO, env=cpu_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  line = proc.stdout.readline()
  assert " at http://127.0.0.1:" in line, line + proc.stdout.read()[-2000:]
  return proc, line.split(" at ")[1].split()[0]


def test_page_equals_infer_and_thresholds(tmp_path):
  sync_api = _browser_or_skip()
  model = os.environ.get("LINEART_WEB_MODEL") or str(tmp_path / "tiny.onnx")
  if not os.environ.get("LINEART_WEB_MODEL"):
    _tiny_model(model)
  # 1000 x 900: 2 x 2 tiles of 768 (windows at 0 and 232/136, seams in the overlaps)
  color, _ = synthetic.make_pair(11, 0, 1000)
  image = tmp_path / "drawing.png"
  cv2.imwrite(str(image), cv2.cvtColor(color[:900], cv2.COLOR_RGB2BGR))

  # What python -m lineart_jax.infer --model=MODEL [--threshold 0.5] writes, in-process.
  extractor = infer.OnnxExtractor(model)
  lines = infer.extract(read_color(str(image)), extractor, None)
  want, want_binary = infer.to_uint8(lines, None), infer.to_uint8(lines, 0.5)
  assert want.shape == (900, 1000) and want.std() > 2  # a picture, not a constant

  server, url = _start_server(model)
  try:
    with sync_api.sync_playwright() as pw:
      browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
      page = browser.new_page(viewport={"width": 1400, "height": 800})
      errors = []
      page.on("pageerror", lambda e: errors.append(str(e)))
      page.goto(url)
      page.wait_for_function("window.lineart.state === 'ready'", timeout=60_000)
      start = time.perf_counter()
      page.set_input_files("#file", str(image))
      page.wait_for_function("['done', 'error'].includes(window.lineart.state)",
                             timeout=300_000)
      result = page.evaluate("window.lineart")
      assert result["state"] == "done", (result, errors)
      assert result["tiles"] == 4
      print(f"page: {result['seconds']:.2f} s for 0.9 MP ({result['threads']} threads); "
            f"wall {time.perf_counter() - start:.2f} s")
      with page.expect_download() as download:
        page.click("#download")
      got_path = tmp_path / "page.png"
      download.value.save_as(got_path)
      assert download.value.suggested_filename == "drawing_lineart.png"
      got = cv2.imread(str(got_path), cv2.IMREAD_GRAYSCALE)
      assert got.shape == want.shape
      diff = np.abs(got.astype(int) - want.astype(int))
      assert diff.max() <= 2, (diff.max(), np.argwhere(diff > 2)[:5])

      page.screenshot(path=str(tmp_path / "page_screenshot.png"))
      keep = os.environ.get("LINEART_WEB_SCREENSHOT")
      if keep:
        shutil.copyfile(tmp_path / "page_screenshot.png", keep)

      page.fill("#threshold", "0.5")  # the slider binarizes, as infer --threshold 0.5
      page.dispatch_event("#threshold", "input")
      with page.expect_download() as download:
        page.click("#download")
      download.value.save_as(tmp_path / "page_binary.png")
      binary = cv2.imread(str(tmp_path / "page_binary.png"), cv2.IMREAD_GRAYSCALE)
      assert set(np.unique(binary)) <= {0, 255} and not np.array_equal(binary, got)
      assert np.mean(binary != want_binary) < 1e-3  # values within float rounding of 0.5
      assert not errors, errors
      browser.close()
  finally:
    server.terminate()
    server.wait(timeout=30)


def test_server_refuses_a_missing_model(tmp_path):
  p = subprocess.run([sys.executable, "-m", "lineart_jax.web", f"--model={tmp_path / 'no.onnx'}",
                      "--no-browser"], cwd=REPO, env=cpu_env(), capture_output=True, text=True,
                     timeout=60)
  assert p.returncode == 2 and "no such ONNX file" in p.stderr
