"""Times the data-parallel train step on synthetic input.

  python bench/train_step.py [--width 1.0 --batch 15 --size 128 --steps 5 --dtype float32]
                             [--arch seed|skip --edges 0]

Prints the compile time, per-step times after warm-up and, last,
``train_step img/s: X`` (global images per second over the timed steps).
"""

import argparse
import time

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import jax
import jax.numpy as jnp
import numpy as np

from lineart_jax import _malloc, sharding
from lineart_jax.model import ModelConfig, from_config
from lineart_jax.train_step import create_train_state, make_optimizer, make_train_step


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--width", type=float, default=1.0)
  p.add_argument("--batch", type=int, default=15, help="global batch")
  p.add_argument("--size", type=int, default=128)
  p.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up")
  p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
  p.add_argument("--arch", default="seed", help="seed or skip (config.model.arch)")
  p.add_argument("--edges", type=int, default=0, help="edge-map scales (config.model.edges)")
  args = p.parse_args()

  _malloc.keep_freed_memory()  # as lineart_jax.train does, before JAX starts its threads
  mesh = sharding.make_mesh()
  model_cfg = ModelConfig(args.width, args.arch, args.edges)
  model = from_config(model_cfg, dtype=jnp.dtype(args.dtype))
  lr = 2e-5
  optimizer = make_optimizer(lr)
  state = create_train_state(model, optimizer, 0, mesh)
  step = make_train_step(model, optimizer, mesh, lr)
  rng = np.random.default_rng(0)
  per_process = args.batch // jax.process_count()
  batch = sharding.global_batch({
      "color": rng.integers(0, 256, (per_process, args.size, args.size, 3), np.uint8),
      "line": rng.integers(0, 256, (per_process, args.size, args.size, 1), np.uint8)}, mesh)
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; {model_cfg.describe()}, "
        f"batch {args.batch}, {args.size}x{args.size}, {args.dtype}")

  t0 = time.perf_counter()
  compiled = step.jitted.lower(state, batch).compile()
  print(f"compile: {time.perf_counter() - t0:.1f} s")
  t0 = time.perf_counter()
  state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)
  print(f"warm-up step: {time.perf_counter() - t0:.2f} s")
  times = []
  for _ in range(args.steps):
    t0 = time.perf_counter()
    state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
  print("step times (s): " + " ".join(f"{t:.2f}" for t in times))
  print(f"loss {float(metrics['loss']):.2f}, median step {np.median(times):.2f} s")
  print(f"train_step img/s: {args.batch * len(times) / sum(times):.3f}")


if __name__ == "__main__":
  main()
