"""XLA:CPU flags that this package sets before JAX starts its backend.

On XLA:CPU (jaxlib 0.10) stride-1 convolution weight gradients go to YNNPACK by
default and run 2-20x slower than Eigen's kernels for this network (measured, see
the project notes).  ``--xla_cpu_experimental_ynn_fusion_type=-individual_convolution``
sends convolutions back to Eigen.  The flag only affects the CPU backend.

It must be in ``XLA_FLAGS`` before the backend initialises, so ``lineart_jax``
adds it on import, unless a GPU plugin of jaxlib is installed (XLA aborts on a
flag its build does not know, and GPU machines do not need it; ``JAX_PLATFORMS=cpu``
adds it anyway).  Set ``LINEART_JAX_KEEP_XLA_FLAGS=1`` to leave ``XLA_FLAGS``
untouched.
"""

import importlib.util
import os
import sys

CPU_CONV_FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
GPU_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin",
               "jax_rocm7_plugin")


def cpu_only_install() -> bool:
  """True unless a GPU plugin of jaxlib is installed (``JAX_PLATFORMS=cpu``: True)."""
  if os.environ.get("JAX_PLATFORMS", "").strip().lower() == "cpu":
    return True
  return not any(importlib.util.find_spec(m) for m in GPU_PLUGINS)


def backend_started() -> bool:
  """Whether JAX has started a backend (read XLA_FLAGS, started its threads)."""
  return bool("jax" in sys.modules and getattr(
      sys.modules.get("jax._src.xla_bridge"), "_backends", None))


def add_cpu_conv_flag() -> bool:
  """Appends the CPU convolution flag to XLA_FLAGS; returns True if it is in effect."""
  if os.environ.get("LINEART_JAX_KEEP_XLA_FLAGS"):
    return False
  if not cpu_only_install():
    return False
  flags = os.environ.get("XLA_FLAGS", "")
  if "xla_cpu_experimental_ynn_fusion_type" in flags:
    return CPU_CONV_FLAG in flags
  if backend_started():
    return False  # too late: the backend read XLA_FLAGS already
  os.environ["XLA_FLAGS"] = (flags + " " + CPU_CONV_FLAG).strip()
  return True
