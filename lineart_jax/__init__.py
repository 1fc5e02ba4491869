"""lineart_jax: turn colored illustrations into clean line art (JAX/Flax).

  extractor = lineart_jax.LineArtExtractor.from_pretrained()
  lines = extractor("art.png")            # (H, W) float32 in [0, 1]; see lineart_jax.api

The API is imported on first use, so that ``import lineart_jax`` stays cheap and
sets its XLA:CPU flag before JAX starts.
"""

from lineart_jax import _xla_flags

_xla_flags.add_cpu_conv_flag()

__version__ = "0.1.0"
__all__ = ["LineArtExtractor"]


def __getattr__(name):
  if name == "LineArtExtractor":
    from lineart_jax.api import LineArtExtractor
    return LineArtExtractor
  raise AttributeError(f"module 'lineart_jax' has no attribute {name!r}")
