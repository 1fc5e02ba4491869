"""Keeps the memory of XLA:CPU's per-step buffers mapped from one step to the next.

XLA:CPU allocates each execution's temporary buffer with ``malloc`` (449 MB for
the width-1/2 train step at batch 12), often from one of its worker threads.
glibc serves a block that size from a fresh ``mmap``: a thread's own arena
cannot hold it, and the main arena hands blocks over 32 MiB to ``mmap`` too;
and it unmaps the block when it is freed.  So every step the kernel maps,
zero-fills and faults in the whole buffer again: measured on a 2-core machine,
about 135,000 page faults and 0.25-0.3 CPU-seconds of system time per step of
1.2-1.3 s, time that the profile charged to whichever operation first wrote
each buffer.

``keep_freed_memory`` sets three ``mallopt`` parameters before JAX starts its
threads: one arena for every thread (``M_ARENA_MAX=1``: big blocks come from the
main heap), no ``mmap`` for big blocks (``M_MMAP_MAX=0``) and no trimming of the
heap's top below 2 GiB (``M_TRIM_THRESHOLD``).  A freed buffer then stays in the
heap for the next step: after the first steps, about no page faults per step.
The cost: memory the process frees is kept for its own later use, and blocks of
other sizes can no longer be handed back one by one, so the peak can grow.  So
only training processes set it (``lineart_jax.train``, ``lineart_jax.finetune``,
``bench/train_step.py``), at the start, before JAX starts its threads (threads
started before keep arenas of their own).  Tiled inference gained nothing from
it and its peak memory rose (``bench/infer.py``, 2048x2048, full width: 12.63
against 12.66 s/MP, peak RSS 1.29 against 0.70 GiB), so inference leaves malloc
alone.

It applies on glibc only (Linux) and to CPU-only installs (the rule of the
XLA:CPU flag in ``_xla_flags``: a GPU machine's step buffers live on the GPU).
``LINEART_JAX_KEEP_MALLOC=1`` leaves malloc as it is.
"""

import ctypes
import os
import platform

from lineart_jax import _xla_flags

# mallopt parameter numbers, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int


def glibc() -> bool:
  """Whether this process runs on glibc (Linux), whose mallopt the setting uses."""
  return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
  """Sets the mallopt parameters above; returns True if they are in effect."""
  if os.environ.get("LINEART_JAX_KEEP_MALLOC") or not glibc():
    return False
  if not _xla_flags.cpu_only_install() or _xla_flags.backend_started():
    return False
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError:
    return False
  return all(libc.mallopt(param, value) == 1 for param, value in (
      (M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
