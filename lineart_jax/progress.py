"""A dependency-free progress bar for long CLI loops (validation, packing, inference)."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


class Progress:
  """``desc [####....] done/total rate ETA`` on stderr, updated by ``update()``.

  On a terminal the bar redraws in place; otherwise (logs, CI) a line is printed
  at most every ten seconds, so logs stay readable.
  """

  def __init__(self, total: int | None, desc: str = "", stream=None,
               min_interval: float = 0.5):
    self.total, self.desc, self.done = total, desc, 0
    self.stream = stream or sys.stderr
    self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
    self.interval = min_interval if self.tty else 10.0
    self.start = self.last = time.perf_counter()

  def update(self, n: int = 1) -> None:
    self.done += n
    now = time.perf_counter()
    if now - self.last >= self.interval:
      self.last = now
      self._draw()

  def close(self) -> None:
    self._draw()
    if self.tty:
      self.stream.write("\n")
      self.stream.flush()

  def _draw(self) -> None:
    elapsed = time.perf_counter() - self.start
    rate = self.done / elapsed if elapsed > 0 else 0.0
    if self.total:
      bar = "#" * int(self.done / self.total * 30)
      eta = f"ETA {(self.total - self.done) / rate:5.0f}s" if rate > 0 else "ETA    ?"
      text = f"{self.desc} [{bar:<30}] {self.done}/{self.total} {rate:.1f}/s {eta}"
    else:
      text = f"{self.desc} {self.done} {rate:.1f}/s"
    self.stream.write(("\r" + text) if self.tty else (text + "\n"))
    self.stream.flush()


def progress(items: Iterable[T], total: int | None = None, desc: str = "",
             stream=None) -> Iterator[T]:
  """Yields ``items`` while drawing a ``Progress`` bar."""
  total = len(items) if total is None and hasattr(items, "__len__") else total
  bar = Progress(total, desc, stream)
  for item in items:
    yield item
    bar.update()
  bar.close()
