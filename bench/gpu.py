"""The GPU throughput report: one script, every figure the GPU path needs.

  python bench/gpu.py --out DIR            # on a GPU machine (bench/gpu.sh wraps it)
  python bench/gpu.py --smoke --out DIR    # every part on CPU at tiny sizes (a test runs it)
  python bench/gpu.py --out DIR --data PACKED --extra 0.5x64
      # the loop on a packed set made beside it (waits for it), and bf16 steps at
      # other widths and batches (e.g. a recipe's)

Writes ``DIR/gpu_report.md`` and ``DIR/gpu_report.json`` with

1. the train step at global batch 15, 64, 240 (128x128, full width), float32 and
   bfloat16: compile time, img/s, FLOPs per step from the compiled step's
   ``cost_analysis()`` and model-FLOP utilisation against the card's dense peak;
2. the step with both transposed-convolution paths (``xla``: cuDNN's
   ``conv_transpose``; ``phase``: the 2x2 phase convolution with custom VJP;
   the one ``auto`` picks on this backend is the bfloat16 row above);
3. the real loop: ``lineart_jax.train --config=configs/throughput.py`` on
   prepared synthetic pairs with a checkpoint: img/s and the time each step
   waited on the loader, from its metrics.jsonl;
4. inference s/megapixel at 2048x2048, float32 and bfloat16;
5. GPU memory in use (``nvidia-smi``).

Each part is timed and a failing part is reported, not fatal, and the report is
rewritten after every part, so one run (even one cut short) gives every figure it can.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import jax
import jax.numpy as jnp
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Dense peak FLOP/s by device kind substring: (bfloat16, float32).  XLA runs
# float32 convolutions on these cards' tensor cores as TF32 (JAX's default
# precision), so float32's peak is TF32's, not the 67 TFLOP/s of float32 FMA.
PEAKS = {"H100": (989e12, 494.7e12), "H200": (989e12, 494.7e12), "A100": (312e12, 156e12)}


def peak_flops(dtype: str) -> float | None:
  kind = jax.devices()[0].device_kind
  for name, (bf16, fp32) in PEAKS.items():
    if name in kind:
      return bf16 if dtype == "bfloat16" else fp32
  return None


def step_flops(lowered) -> float | None:
  """FLOPs of one step from the lowered (backend-independent) HLO.

  The compiled GPU executable's ``cost_analysis()`` leaves out the convolutions
  (cuDNN custom calls): on an H200 it gave 0.003 TFLOP for a step of 0.7.
  """
  cost = lowered.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else None
  return float(cost["flops"]) if cost and "flops" in cost else None


def build_step(width, batch, size, dtype, deconv_impl="auto") -> dict:
  """The compiled train step of one configuration, its state and input."""
  from lineart_jax import sharding
  from lineart_jax.model import AutoEncoder
  from lineart_jax.train_step import create_train_state, make_optimizer, make_train_step
  mesh = sharding.make_mesh()
  model = AutoEncoder(width=width, dtype=jnp.dtype(dtype), deconv_impl=deconv_impl)
  optimizer = make_optimizer(2e-5)
  state = create_train_state(model, optimizer, 0, mesh)
  step = make_train_step(model, optimizer, mesh, 2e-5)
  rng = np.random.default_rng(0)
  data = sharding.global_batch({
      "color": rng.integers(0, 256, (batch, size, size, 3), np.uint8),
      "line": rng.integers(0, 256, (batch, size, size, 1), np.uint8)}, mesh)
  t0 = time.perf_counter()
  lowered = step.jitted.lower(state, data)
  compiled = lowered.compile()
  return {"config": {"width": width, "batch": batch, "dtype": dtype, "deconv": deconv_impl},
          "compiled": compiled, "state": state, "data": data, "flops": step_flops(lowered),
          "compile_s": time.perf_counter() - t0}


def time_step(built: dict, steps: int) -> dict:
  """img/s and MFU of a step ``build_step`` made, timed alone on the device."""
  compiled, state, data = built["compiled"], built["state"], built["data"]
  state, metrics = compiled(state, data)  # warm-up
  jax.block_until_ready(metrics)
  t0 = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, data)
  jax.block_until_ready(metrics)
  step_s = (time.perf_counter() - t0) / steps
  flops, peak = built["flops"], peak_flops(built["config"]["dtype"])
  return {**built["config"], "compile_s": built["compile_s"], "step_ms": 1000 * step_s,
          "img_per_s": built["config"]["batch"] / step_s,
          "tflops_per_step": flops / 1e12 if flops else None,
          "mfu": flops / step_s / peak if flops and peak else None}


def real_loop(args, work: str) -> dict:
  """The training CLI on prepared synthetic pairs: img/s and loader wait from metrics."""
  from lineart_jax.data import packed as packed_format
  raw, packed, workdir = (os.path.join(work, d) for d in ("syn", "packed", "run"))
  env = dict(os.environ)
  if args.data:  # made beside this run (e.g. by launch/pretrain_gpu.sh data): wait for it
    packed, t0 = args.data, time.perf_counter()
    while not packed_format.is_packed(packed):
      if time.perf_counter() - t0 > args.data_timeout:
        raise TimeoutError(f"{packed}: no packed set after {args.data_timeout:.0f} s")
      time.sleep(2)
  else:
    from lineart_jax.data import synthetic
    synthetic.write_dataset(raw, args.pairs, size=args.pair_size, workers=args.gen_workers)
    subprocess.run([sys.executable, "-m", "lineart_jax.data.prepare", raw, "--out", packed],
                   cwd=REPO, env=env, check=True, capture_output=True)
  cmd = [sys.executable, "-m", "lineart_jax.train", "--config=configs/throughput.py",
         f"--workdir={workdir}", f"--config.data.root={packed}",
         f"--config.num_steps={args.loop_steps}", f"--config.checkpoint_every={args.loop_steps}",
         f"--config.log_every={max(1, args.loop_steps // 6)}", "--config.eval_every=0",
         *args.loop_flags]
  t0 = time.perf_counter()
  p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
  wall = time.perf_counter() - t0
  if p.returncode:
    raise RuntimeError(f"train exited {p.returncode}: {p.stderr[-2000:]}")
  rows = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  timed = [r for r in rows if "img_per_s" in r]
  return {"steps": args.loop_steps, "wall_s": wall,
          "img_per_s": float(np.median([r["img_per_s"] for r in timed])) if timed else None,
          "data_wait_ms_per_step": float(np.median([r["data_wait_ms"] for r in timed
                                                    if "data_wait_ms" in r]))
          if timed else None,
          "checkpoint": sorted(os.listdir(os.path.join(workdir, "checkpoints")))}


def inference(width, size, dtype) -> dict:
  from lineart_jax.infer import NetworkExtractor
  from lineart_jax.model import AutoEncoder, ModelConfig, init_variables
  variables = jax.jit(lambda s: init_variables(AutoEncoder(width=width), s))(0)
  image = np.random.default_rng(0).integers(0, 256, (size, size, 3), np.uint8)
  ext = NetworkExtractor(ModelConfig(width), variables, dtype, tile=min(768, size))
  t0 = time.perf_counter()
  ext(image)
  first = time.perf_counter() - t0
  t0 = time.perf_counter()
  ext(image)
  return {"dtype": dtype, "size": size, "first_call_s": first,
          "s_per_megapixel": (time.perf_counter() - t0) / (size * size / 1e6)}


def gpu_memory() -> str:
  smi = shutil.which("nvidia-smi")
  if not smi:
    return "n/a (no nvidia-smi)"
  p = subprocess.run([smi, "--query-gpu=name,memory.used,memory.total", "--format=csv,noheader"],
                     capture_output=True, text=True)
  return p.stdout.strip() or p.stderr.strip()


def markdown(report: dict) -> str:
  fmt = lambda v, f="{:.1f}": "n/a" if v is None else f.format(v)
  lines = [f"# GPU report: {report['device']}", "",
           f"jax {report['jax']}, {report['devices']} device(s), width {report['width']}, "
           f"{report['size']}x{report['size']} crops", "",
           f"transposed convolutions: `auto` is `{report.get('deconv_auto')}` on this backend", "",
           "| width | batch | dtype | deconv | compile s | step ms | img/s | "
           "TFLOP/step | MFU |",
           "|---|---|---|---|---|---|---|---|---|"]
  for r in report["steps"]:
    lines.append(f"| {r['width']} | {r['batch']} | {r['dtype']} | {r['deconv']} | "
                 f"{fmt(r['compile_s'])} | "
                 f"{fmt(r['step_ms'])} | {fmt(r['img_per_s'])} | "
                 f"{fmt(r['tflops_per_step'], '{:.3f}')} | {fmt(r['mfu'], '{:.1%}')} |")
  loop = report.get("loop") or {}
  lines += ["", f"Real loop (configs/throughput.py, {loop.get('steps')} steps): "
            f"{fmt(loop.get('img_per_s'))} img/s, loader wait "
            f"{fmt(loop.get('data_wait_ms_per_step'), '{:.2f}')} ms/step, checkpoints "
            f"{loop.get('checkpoint')}", "", "| inference | s/megapixel | first call s |",
            "|---|---|---|"]
  for r in report.get("inference", []):
    lines.append(f"| {r['size']}x{r['size']} {r['dtype']} | {fmt(r['s_per_megapixel'], '{:.3f}')}"
                 f" | {fmt(r['first_call_s'])} |")
  lines += ["", f"GPU memory: {report.get('gpu_memory', 'n/a')}"]
  if report["errors"]:
    lines += ["", "Errors:", *[f"- {e}" for e in report["errors"]]]
  return "\n".join(lines) + "\n"


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--out", default=os.environ.get("OUT", "gpu_report"))
  p.add_argument("--smoke", action="store_true", help="tiny sizes, runs on CPU")
  p.add_argument("--data", default="", help="packed set for the real loop (default: "
                 "generate one); waits up to --data-timeout s for it to appear")
  p.add_argument("--data-timeout", type=float, default=600)
  p.add_argument("--extra", default="", help="more bfloat16 steps, WIDTHxBATCH,... "
                 "(e.g. 0.5x64: a recipe's width and batch)")
  args = p.parse_args()
  if args.smoke:
    args.width, args.size, args.batches, args.steps = 0.0625, 32, (4,), 2
    args.pairs, args.pair_size, args.gen_workers, args.loop_steps = 8, 48, 0, 4
    args.infer_size = 64
    args.loop_flags = ["--config.model.width=0.0625", "--config.global_batch=4",
                       "--config.data.crop=16", "--config.data.workers=0",
                       "--config.model.dtype=float32", "--config.data.val_count=2"]
  else:
    args.width, args.size, args.batches, args.steps = 1.0, 128, (15, 64, 240), 10
    args.pairs, args.pair_size, args.gen_workers, args.loop_steps = 2000, 384, 14, 300
    args.infer_size = 2048
    args.loop_flags = []
  extra = [(float(w), int(b)) for w, b in
           (spec.split("x") for spec in args.extra.split(",") if spec)]
  os.makedirs(args.out, exist_ok=True)
  from lineart_jax.ops import resolve_conv_transpose_impl
  auto = resolve_conv_transpose_impl("auto")
  report = {"device": f"{jax.device_count()} x {jax.devices()[0].device_kind}",
            "jax": jax.__version__, "devices": jax.device_count(), "width": args.width,
            "size": args.size, "deconv_auto": auto, "steps": [], "inference": [], "errors": []}

  def write():
    report["gpu_memory"] = gpu_memory()
    with open(os.path.join(args.out, "gpu_report.json"), "w") as f:
      json.dump(report, f, indent=2)
    with open(os.path.join(args.out, "gpu_report.md"), "w") as f:
      f.write(markdown(report))

  def part(name, fn):
    t0 = time.perf_counter()
    try:
      fn()
    except Exception as e:  # report and go on: one run gives every figure it can
      report["errors"].append(f"{name}: {type(e).__name__}: {e}")
      traceback.print_exc()
    print(f"[{name}] {time.perf_counter() - t0:.0f} s", flush=True)
    write()

  other = next(i for i in ("xla", "phase") if i != auto)  # auto's is the bf16 row
  configs = [(args.width, b, d, "auto") for d in ("float32", "bfloat16") for b in args.batches]
  configs += [(args.width, args.batches[-1], "bfloat16", other)]
  configs += [(w, b, "bfloat16", "auto") for w, b in extra]
  # One configuration at a time: compiled (40-60 s for the full network on an
  # H200, mostly cuDNN autotuning), timed, freed, and the report rewritten.  All
  # seven compiled at once in threads ran past 415 s on an H200 without finishing
  # one (2026-12-04), so a cut-short run had no figure at all.
  for w, b, d, i in configs:
    part(f"step width {w} batch {b} {d} deconv {i}", lambda cfg=(w, b, args.size, d, i):
         report["steps"].append(time_step(build_step(*cfg), args.steps)))
  for dtype in ("float32", "bfloat16"):
    part(f"inference {dtype}", lambda d=dtype: report["inference"].append(
        inference(args.width, args.infer_size, d)))
  work = os.path.join(args.out, "work")
  part("real loop", lambda: report.update(loop=real_loop(args, work)))
  shutil.rmtree(work, ignore_errors=True)
  write()
  print(markdown(report))
  return 1 if report["errors"] else 0


if __name__ == "__main__":
  sys.exit(main())
