"""One trainer per workdir: an exclusive lock that process 0 holds for the run's life.

Two trainers on one workdir (a SLURM requeue while the old job still runs, a
second terminal) would both write checkpoints and ``metrics.jsonl`` and both
"succeed".  ``hold`` takes ``flock`` on ``WORKDIR/.lock``: the kernel drops the
lock when its process ends, however it ends (``kill -9``, the OOM killer), so a
crashed run never leaves a stale lock on its host, and the next run starts at
once.  The file names the holder (host, pid, start time) for the message a
refused trainer prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time

LOCK_FILE = ".lock"


class WorkdirLockedError(RuntimeError):
  """Another live trainer holds the workdir."""


def _holder(fd: int) -> str:
  try:
    os.lseek(fd, 0, os.SEEK_SET)
    info = json.loads(os.read(fd, 4096).decode() or "{}")
    return (f"host {info.get('host', '?')}, pid {info.get('pid', '?')}, started "
            f"{info.get('started', '?')}")
  except (OSError, ValueError):
    return "holder unknown"


@contextlib.contextmanager
def hold(workdir: str):
  """Holds ``workdir``'s lock for the ``with`` block; raises ``WorkdirLockedError``
  naming the holder when another process has it."""
  path = os.path.join(workdir, LOCK_FILE)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise WorkdirLockedError(
          f"workdir {workdir} is in use by another trainer ({_holder(fd)}); stop it, "
          "or train in another --workdir") from None
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                             "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}).encode())
    yield
  finally:
    os.close(fd)  # releases the lock
