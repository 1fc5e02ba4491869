"""Seconds per megapixel of tiled inference, and peak memory.

  python bench/infer.py [--size 2048 --width 1.0 --arch seed --edges 0 --dtypes float32,bfloat16
                        --tile 768] [--onnx]

Randomly initialised weights (speed does not depend on them).  Prints, per
dtype, the first-call time (compilation) and the s/megapixel of a second full
pass, then the process's peak RSS; the last line is ``infer s/megapixel: X``
(the first dtype).  ``--onnx`` also exports the same weights to ONNX
(``lineart_jax.export``, BatchNorm folded) and times onnxruntime with the same
tiling, printed as ``onnxruntime s/megapixel: X``.
"""

import argparse
import resource
import time

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
import cv2
import jax

from lineart_jax import tiling
from lineart_jax.data.synthetic import make_pair
from lineart_jax.infer import NetworkExtractor
from lineart_jax.model import ModelConfig, from_config, init_variables


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--size", type=int, default=2048)
  p.add_argument("--width", type=float, default=1.0)
  p.add_argument("--arch", default="seed", help="seed or skip (config.model.arch)")
  p.add_argument("--edges", type=int, default=0, help="edge-map scales (config.model.edges)")
  p.add_argument("--dtypes", default="float32,bfloat16")
  p.add_argument("--tile", type=int, default=768)
  p.add_argument("--batch", type=int, default=1)
  p.add_argument("--onnx", action="store_true", help="also time the exported ONNX model")
  args = p.parse_args()
  image = cv2.resize(make_pair(0, 0, 512)[0], (args.size, args.size),
                     interpolation=cv2.INTER_CUBIC)
  model_cfg = ModelConfig(args.width, args.arch, args.edges)
  variables = jax.jit(lambda s: init_variables(from_config(model_cfg), s))(0)
  mp = args.size ** 2 / 1e6
  print(f"{jax.devices()[0].platform}: {args.size}x{args.size} ({mp:.1f} MP), "
        f"{model_cfg.describe()}, tile {args.tile} "
        f"({tiling.count_tiles(args.size, args.size, args.tile)} tiles)")
  results = []
  for dtype in args.dtypes.split(","):
    ext = NetworkExtractor(model_cfg, variables, dtype, args.tile, args.batch)
    t0 = time.perf_counter()
    ext(image[:args.tile, :args.tile])  # compile the fixed tile shape
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ext(image)
    s_per_mp = (time.perf_counter() - t0) / mp
    results.append(s_per_mp)
    print(f"{dtype}: first call {compile_s:.1f} s, {s_per_mp:.2f} s/megapixel")
  print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
  print(f"infer s/megapixel: {results[0]:.2f}")
  if args.onnx:
    import tempfile
    from lineart_jax import export
    from lineart_jax.infer import OnnxExtractor
    with tempfile.TemporaryDirectory() as tmp:
      path = f"{tmp}/model.onnx"
      export.export_onnx(export.inference_function(model_cfg, jax.device_get(variables)), path)
      ext = OnnxExtractor(path, args.tile, args.batch)
      ext(image[:args.tile, :args.tile])  # session warm-up
      t0 = time.perf_counter()
      ext(image)
      print(f"onnxruntime s/megapixel: {(time.perf_counter() - t0) / mp:.2f}")


if __name__ == "__main__":
  main()
