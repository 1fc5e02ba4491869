"""CLI: export a trained model for deployment, as ONNX or as serialized StableHLO.

  python -m lineart_jax.export [--workdir=DIR | --checkpoint=PATH | --pretrained]
      --out=FILE [--format=onnx|stablehlo] [--dtype=float32|float16]

Both artifacts compute what ``infer`` computes for one batch:

* input ``image``: uint8 RGB of shape (N, H, W, 3), N, H and W dynamic, H and W
  multiples of 8 (pad with ``pad_to_multiple`` and crop the output back, or use
  ``infer --model=FILE.onnx``, whose tiles already are);
* input ``style``, only for a model with a style input (``lineart_jax.style``):
  float32 (N, 6), each image's style as offsets from the default style
  (log2 line weight, detail - 1, tone dark, blacks ink, blacks paint, contours
  all), (N, 5) without the last for models made before the contours control; the
  default style is all zeros (``lineart_jax.style.Style(...).vector()`` gives
  any other);
* output: float32 line art (N, H, W) in [0, 1], 1 = paper.

BatchNorm is folded into the convolutions (inference mode), so the graph is
convolutions, biases, ReLUs and a sigmoid.  ONNX is written with ``jax2onnx`` at
opset 21 (runs in onnxruntime on CPUs and GPUs; the ``[export]`` extra);
StableHLO with ``jax.export`` and symbolic N, H, W, serialized so that
``jax.export.deserialize(open(FILE, 'rb').read()).call(images)`` runs it with no
lineart_jax.  ``--dtype float16`` computes in half precision (weights stored in
float16), output still float32.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from absl import app, flags

import lineart_jax  # noqa: F401  (sets XLA:CPU flags before JAX starts)
from lineart_jax.tiling import pad_to_multiple  # noqa: F401  (for callers of the artifacts)

if TYPE_CHECKING:  # annotations only: model imports jax and flax, which this module defers
  from lineart_jax.model import ModelConfig


def define_flags() -> None:
  """The command line's flags, defined when it runs as a program (``__main__``),
  not on import: absl flags are global, so two modules defining ``--workdir``
  at import could not be imported into one process (evaluate and export).
  """
  flags.DEFINE_string("workdir", None, "Training workdir (its latest checkpoint).")
  flags.DEFINE_string("checkpoint", None, "A checkpoint step folder or checkpoints/ folder.")
  flags.DEFINE_bool("pretrained", False, "Export the shipped model (the default).")
  flags.DEFINE_string("out", None, "File to write (.onnx or .stablehlo).")
  flags.DEFINE_enum("format", None, ["onnx", "stablehlo"],
                    "Artifact format (default: from --out's extension).")
  flags.DEFINE_enum("dtype", "float32", ["float32", "float16"], "Compute dtype.")


FLAGS = flags.FLAGS

OPSET = 21


def inference_function(model_cfg: ModelConfig, variables: dict, dtype: str = "float32"):
  """uint8 (N, H, W, 3) [, float32 style (N, style_dims)] -> float32 (N, H, W), BatchNorm
  folded, H and W multiples of 8; the style argument only for a style model.
  ``model_cfg``: the weights' ``ModelConfig`` (``load_weights``' first item)."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  from lineart_jax.model import fold_batchnorm, from_config
  # deconv_impl="xla": inference needs no custom VJP, and jax2onnx reuses the custom
  # VJP's traced body across exports in one process, with another export's
  # symbolic H and W (a second export then fails).
  model = from_config(model_cfg, dtype=jnp.dtype(dtype), pad_to_stride=False,
                      batchnorm_folded=True, deconv_impl="xla")
  folded = jax.tree.map(lambda a: np.asarray(a, dtype), fold_batchnorm(variables))

  def lines(image, style=None):
    x = image.astype(jnp.float32) / 255.0
    return model.apply(folded, x, train=False, style=style)[..., 0].astype(jnp.float32)
  if model.style_dims:
    lines.style_dims = model.style_dims
    return lines
  return lambda image: lines(image)


def input_specs(fn, batch="N", height="8*H8", width="8*W8"):
  """The abstract inputs of ``inference_function``'s result: the image, and the
  style vectors when it takes them."""
  import inspect
  import jax
  import jax.numpy as jnp
  specs = [jax.ShapeDtypeStruct((batch, height, width, 3), jnp.uint8)]
  if len(inspect.signature(fn).parameters) == 2:
    specs.append(jax.ShapeDtypeStruct((batch, fn.style_dims), jnp.float32))
  return specs


def export_onnx(fn, path: str) -> None:
  import jax
  import jax.numpy as jnp
  import onnx
  from jax2onnx import to_onnx
  # H and W as multiples of 8: the skip architecture adds encoder and decoder
  # activations, whose symbolic sizes are provably equal only then.
  specs = input_specs(fn)
  model = to_onnx(fn, specs, input_params=None, opset=OPSET, model_name="lineart_jax")
  # jax2onnx names the inputs after their tracers; give them the documented names.
  graph = model.graph
  names = {graph.input[0].name: "image", graph.output[0].name: "lines"}
  values = [(graph.input[0], ("N", "H", "W", 3), onnx.TensorProto.UINT8),
            (graph.output[0], ("N", "H", "W"), onnx.TensorProto.FLOAT)]
  if len(specs) == 2:
    names[graph.input[1].name] = "style"
    values.append((graph.input[1], ("N", fn.style_dims), onnx.TensorProto.FLOAT))
  for node in graph.node:
    node.input[:] = [names.get(n, n) for n in node.input]
    node.output[:] = [names.get(n, n) for n in node.output]
  for value, dims, elem_type in values:
    value.name = names[value.name]
    tensor_type = value.type.tensor_type
    tensor_type.elem_type = elem_type
    del tensor_type.shape.dim[:]
    for dim in dims:
      if isinstance(dim, int):
        tensor_type.shape.dim.add().dim_value = dim
      else:
        tensor_type.shape.dim.add().dim_param = dim
  onnx.checker.check_model(model)
  onnx.save(model, path)


def export_stablehlo(fn, path: str) -> None:
  import jax
  import jax.numpy as jnp
  from jax import export
  n, h, w = export.symbolic_shape("n, 8*h, 8*w")  # multiples of 8: see export_onnx
  exported = export.export(jax.jit(fn))(*input_specs(fn, n, h, w))
  with open(path, "wb") as f:
    f.write(exported.serialize())


def export_model(spec: str, out: str, fmt: str, dtype: str = "float32") -> str:
  """Writes ``out``; returns the description of the exported weights."""
  from lineart_jax.pretrained import load_weights
  model_cfg, variables, what = load_weights(spec)
  fn = inference_function(model_cfg, variables, dtype)
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  (export_onnx if fmt == "onnx" else export_stablehlo)(fn, out)
  return what


def main(argv):
  del argv
  from lineart_jax.pretrained import PRETRAINED
  if not FLAGS.out:
    sys.exit("error: --out is required")
  fmt = FLAGS.format or ("onnx" if FLAGS.out.lower().endswith(".onnx") else "stablehlo")
  spec = FLAGS.workdir or FLAGS.checkpoint or PRETRAINED
  try:
    what = export_model(spec, FLAGS.out, fmt, FLAGS.dtype)
  except ImportError as e:
    sys.exit(f"error: {e}; ONNX export needs: pip install 'lineart_jax[export]'")
  except (FileNotFoundError, ValueError) as e:
    sys.exit(f"error: {e}")
  size = os.path.getsize(FLAGS.out) / 2**20
  print(f"wrote {FLAGS.out} ({fmt}, {FLAGS.dtype}, {size:.1f} MiB) from {what}")


if __name__ == "__main__":
  define_flags()
  app.run(main)
