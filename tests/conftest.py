"""Test setup, before JAX is imported anywhere: four simulated CPU devices, and one
persistent compilation cache for the whole session.

The cache: most of the suite's time is XLA compiling the same tiny train steps
again, in this process and in the many trainer subprocesses (SIGKILL, resume,
two processes), which inherit it through the environment.  A cached executable
is the one XLA would compile (the key is the program, the flags and the jax
version), so what the tests check is unchanged; a fresh folder per session
means nothing carries over between runs.  ``LINEART_TEST_NO_CACHE=1`` turns it
off.
"""

import atexit
import os
import shutil
import tempfile

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=4").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
if not os.environ.get("LINEART_TEST_NO_CACHE") and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _cache = tempfile.mkdtemp(prefix="lineart_jax_test_xla_cache_")
  atexit.register(shutil.rmtree, _cache, ignore_errors=True)
  os.environ.update(JAX_COMPILATION_CACHE_DIR=_cache,
                    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="-1")

import lineart_jax  # noqa: E402,F401  (adds the CPU conv flag)
