"""A dependency-free progress bar for long CLI loops (validation, packing, inference)."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int | None = None, desc: str = "",
             stream=None, min_interval: float = 0.5) -> Iterator[T]:
  """Yields ``items`` while drawing ``desc [####....] i/total rate ETA`` on stderr.

  On a terminal the bar redraws in place; otherwise (logs, CI) a line is printed
  at most every ten seconds, so logs stay readable.
  """
  stream = stream or sys.stderr
  total = len(items) if total is None and hasattr(items, "__len__") else total
  tty = hasattr(stream, "isatty") and stream.isatty()
  interval = min_interval if tty else 10.0
  start = last = time.perf_counter()
  done = 0

  def draw(final=False):
    elapsed = time.perf_counter() - start
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
      frac = done / total
      bar = "#" * int(frac * 30)
      eta = (total - done) / rate if rate > 0 else float("inf")
      eta_s = f"ETA {eta:5.0f}s" if eta != float("inf") else "ETA    ?"
      text = f"{desc} [{bar:<30}] {done}/{total} {rate:.1f}/s {eta_s}"
    else:
      text = f"{desc} {done} {rate:.1f}/s"
    stream.write(("\r" + text) if tty else (text + "\n"))
    if final and tty:
      stream.write("\n")
    stream.flush()

  for item in items:
    yield item
    done += 1
    now = time.perf_counter()
    if now - last >= interval:
      last = now
      draw()
  draw(final=True)
