"""lineart_jax's malloc setting (lineart_jax/_malloc.py): big buffers stay mapped."""

import os
import subprocess
import sys

import pytest

from lineart_jax import _malloc

BUFFER_BYTES = 80_000_000  # over glibc's largest mmap threshold (32 MiB)

# Page faults per call of a jitted function whose 80 MB result is freed before the
# next call: the fewest of 5 rounds of 4 calls, since a machine that pages out idle
# memory (as some VMs do) makes a round fault now and then however malloc is set.
_PROBE = f"""
import resource
from lineart_jax import _malloc
_malloc.keep_freed_memory()
import jax, jax.numpy as jnp
x = jnp.ones(({BUFFER_BYTES // 4},), jnp.float32)
double = jax.jit(lambda x: x * 2)
for _ in range(3):
  double(x).block_until_ready()
rounds = []
for _ in range(5):
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  for _ in range(4):
    double(x).block_until_ready()
  rounds.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4)
print("faults per call", min(rounds))
"""


def _faults_per_call(**env) -> float:
  out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                       env={**os.environ, "JAX_PLATFORMS": "cpu", **env}, check=True).stdout
  return float(out.rsplit("faults per call", 1)[1])


@pytest.mark.skipif(not _malloc.glibc(), reason="the setting is glibc's")
def test_freed_big_buffers_are_reused_without_page_faults():
  pages = BUFFER_BYTES / os.sysconf("SC_PAGE_SIZE")
  # glibc's default: each call maps its result afresh and faults every page in.
  assert _faults_per_call(LINEART_JAX_KEEP_MALLOC="1") > 0.9 * pages
  assert _faults_per_call() < 0.1 * pages


def test_setting_is_left_out_when_asked_or_too_late(monkeypatch):
  monkeypatch.setenv("LINEART_JAX_KEEP_MALLOC", "1")
  assert not _malloc.keep_freed_memory()
  monkeypatch.delenv("LINEART_JAX_KEEP_MALLOC")
  monkeypatch.setattr(_malloc._xla_flags, "backend_started", lambda: True)
  assert not _malloc.keep_freed_memory()  # JAX's threads have their arenas already
  monkeypatch.setattr(_malloc._xla_flags, "backend_started", lambda: False)
  monkeypatch.setattr(_malloc._xla_flags, "cpu_only_install", lambda: False)
  assert not _malloc.keep_freed_memory()  # a GPU install: step buffers live on the GPU
