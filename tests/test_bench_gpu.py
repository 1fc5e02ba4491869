"""bench/gpu.py --smoke: every part of the GPU report runs (on CPU, tiny sizes)."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_report_smoke(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  env.pop("XLA_FLAGS", None)
  p = subprocess.run([sys.executable, "bench/gpu.py", "--smoke", "--out", str(tmp_path)],
                     cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
  report = json.loads((tmp_path / "gpu_report.json").read_text())
  assert report["errors"] == []
  kinds = {(r["dtype"], r["deconv"]) for r in report["steps"]}
  assert kinds == {("float32", "auto"), ("bfloat16", "auto"), ("bfloat16", "xla"),
                   ("bfloat16", "phase")}
  assert all(r["img_per_s"] > 0 and r["tflops_per_step"] > 0 for r in report["steps"])
  loop = report["loop"]
  assert loop["img_per_s"] > 0 and loop["data_wait_ms_per_step"] >= 0
  assert loop["checkpoint"] == [str(loop["steps"])]
  assert {r["dtype"] for r in report["inference"]} == {"float32", "bfloat16"}
  md = (tmp_path / "gpu_report.md").read_text()
  assert "| batch | dtype | deconv |" in md and "Real loop" in md
  assert not (tmp_path / "work").exists()  # the loop's data and run are cleaned up
