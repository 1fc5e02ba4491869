"""What the tests that run the CLIs in a subprocess share: the repo root and a clean CPU env.

The test process itself runs with four simulated devices (``conftest.py``); a
subprocess gets one CPU device, like a laptop, unless it asks for ``devices``,
and none of this process's ``XLA_*`` or ``LINEART_*`` settings.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_env(devices: int | None = None, **extra: str) -> dict[str, str]:
  env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_", "LINEART_"))}
  env["JAX_PLATFORMS"] = "cpu"
  env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
  if devices:
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
  env.update(extra)
  return env
