"""lineart_jax: turn colored illustrations into clean line art (JAX/Flax)."""

from lineart_jax import _xla_flags

_xla_flags.add_cpu_conv_flag()

__version__ = "0.1.0"
