"""bench/gpu.py --smoke: every part of the GPU report runs (on CPU, tiny sizes)."""

import json
import subprocess
import sys

from subprocess_env import REPO, cpu_env


def test_gpu_report_smoke(tmp_path):
  p = subprocess.run([sys.executable, "bench/gpu.py", "--smoke", "--out", str(tmp_path),
                      "--extra", "0.125x2"],
                     cwd=REPO, env=cpu_env(), capture_output=True, text=True, timeout=600)
  assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
  report = json.loads((tmp_path / "gpu_report.json").read_text())
  assert report["errors"] == []
  assert report["deconv_auto"] == "phase"  # on CPU; the other path gets its own row
  kinds = {(r["width"], r["batch"], r["dtype"], r["deconv"]) for r in report["steps"]}
  assert kinds == {(0.0625, 4, "float32", "auto"), (0.0625, 4, "bfloat16", "auto"),
                   (0.0625, 4, "bfloat16", "xla"), (0.125, 2, "bfloat16", "auto")}
  assert all(r["img_per_s"] > 0 and r["tflops_per_step"] > 0 for r in report["steps"])
  loop = report["loop"]
  assert loop["img_per_s"] > 0 and loop["data_wait_ms_per_step"] >= 0
  assert loop["checkpoint"] == [str(loop["steps"])]
  assert {r["dtype"] for r in report["inference"]} == {"float32", "bfloat16"}
  md = (tmp_path / "gpu_report.md").read_text()
  assert "| width | batch | dtype | deconv |" in md and "Real loop" in md
  assert not (tmp_path / "work").exists()  # the loop's data and run are cleaned up
