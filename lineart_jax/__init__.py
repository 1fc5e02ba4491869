"""lineart_jax: turn colored illustrations into clean line art (JAX/Flax)."""

from lineart_jax import _malloc, _xla_flags

_xla_flags.add_cpu_conv_flag()
_malloc.keep_freed_memory()

__version__ = "0.1.0"
