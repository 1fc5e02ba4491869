"""lineart_jax's malloc setting (lineart_jax/_malloc.py): big buffers stay mapped."""

import json
import os
import subprocess
import sys

import pytest

from lineart_jax import _malloc

BUFFER_BYTES = 80_000_000  # over glibc's largest mmap threshold (32 MiB)
STREAK = 8        # calls in a row, each faulting under a tenth of the buffer's pages ...
MAX_CALLS = 200   # ... within this many calls

# Page faults of each call of a jitted function whose 80 MB result is freed before
# the next call, after one call of warm-up: up to `calls` calls, stopping early
# once the last `streak` calls each faulted under a tenth of the buffer's pages.
_PROBE = f"""
import json, resource, sys
from lineart_jax import _malloc
_malloc.keep_freed_memory()
import jax, jax.numpy as jnp
calls, streak = int(sys.argv[1]), int(sys.argv[2])
clean = {BUFFER_BYTES} / resource.getpagesize() / 10
x = jnp.ones(({BUFFER_BYTES // 4},), jnp.float32)
double = jax.jit(lambda x: x * 2)
double(x).block_until_ready()
faults = []
while len(faults) < calls and not (
    streak and len(faults) >= streak and max(faults[-streak:]) < clean):
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  double(x).block_until_ready()
  faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(faults))
"""


def _faults_per_call(calls: int, streak: int = 0, **env) -> list[int]:
  out = subprocess.run([sys.executable, "-c", _PROBE, str(calls), str(streak)],
                       capture_output=True, text=True, check=True,
                       env={**os.environ, "JAX_PLATFORMS": "cpu", **env}).stdout
  return json.loads(out.splitlines()[-1])


def _shown(faults: list[int], pages: float) -> str:
  """One character a call: x where it faulted the buffer in, . where it did not."""
  return "".join("x" if f >= 0.1 * pages else "." for f in faults)


@pytest.mark.skipif(not _malloc.glibc(), reason="the setting is glibc's")
def test_freed_big_buffers_are_reused_without_page_faults():
  """With the setting the result's block comes back from the heap: no page faults.

  Not after a fixed number of calls, though.  While the heap settles, a call now
  and then finds no freed block that fits (the other threads' small allocations,
  from the same heap, take parts of the freed ones) and grows the heap by a fresh
  block, which faults every page in; how many calls that goes on for depends on
  how the threads interleave, so on how busy the machine is: 3-8 calls alone,
  up to about 25 beside a CPU and memory load, where the fewest faults of 5
  rounds of 4 calls after 3 of warm-up was a quarter of the pages (one call a
  round).  So this waits for the heap to settle: it passes once STREAK calls in a
  row have each faulted under a tenth of the buffer's pages, and fails if that
  has not happened in MAX_CALLS calls.  A busy machine can only add faults, so
  glibc's default (each call maps its block afresh and faults all of it in)
  never gives one such call: checked first on the opt-out, so that the test
  fails without the setting, however the machine is loaded.
  """
  pages = BUFFER_BYTES / os.sysconf("SC_PAGE_SIZE")
  off = _faults_per_call(12, LINEART_JAX_KEEP_MALLOC="1")
  assert min(off) > 0.9 * pages, f"glibc's default did not fault each call in: {off}"
  on = _faults_per_call(MAX_CALLS, STREAK)
  assert len(on) >= STREAK and max(on[-STREAK:]) < 0.1 * pages, (
      f"no {STREAK} calls in a row without the buffer's faults in {len(on)} calls: "
      + _shown(on, pages))


def test_setting_is_left_out_when_asked_or_too_late(monkeypatch):
  monkeypatch.setenv("LINEART_JAX_KEEP_MALLOC", "1")
  assert not _malloc.keep_freed_memory()
  monkeypatch.delenv("LINEART_JAX_KEEP_MALLOC")
  monkeypatch.setattr(_malloc._xla_flags, "backend_started", lambda: True)
  assert not _malloc.keep_freed_memory()  # JAX's threads have their arenas already
  monkeypatch.setattr(_malloc._xla_flags, "backend_started", lambda: False)
  monkeypatch.setattr(_malloc._xla_flags, "cpu_only_install", lambda: False)
  assert not _malloc.keep_freed_memory()  # a GPU install: step buffers live on the GPU
