"""Running a plan (``dataset_plan``): decode, network and encode overlapped.

Three stages run at once so that the network does not wait for files:

* a **reader** thread walks the jobs in order, hands image decoding to a pool
  of ``io_threads`` threads and reads videos frame by frame itself; at most
  ``prefetch`` (or twice ``io_threads``) decoded images wait for the network
  (bounded memory);
* the **network** (the calling thread) takes them in order and gives
  consecutive same-sized images to one call (``LineArtExtractor.lines``: their
  tiles share device calls, ``batch`` tiles each);
* the same pool **encodes and writes** each result (``atomic_files``: a temporary
  name, then a rename), at most ``prefetch`` results (or two device calls'
  worth) waiting.

OpenCV's codecs and XLA release the GIL, so threads overlap them.  A bad input
(unreadable, truncated, not an image, a video OpenCV cannot open) and a failed
write are recorded with the reason and the run goes on; what was written stays.
A video's line-art frames are written into its work folder; once every frame of
the stream is there (all shards done), the video is written from them and the
folder removed, by whichever run gets there.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import dataclasses
import os
import queue
import shutil
import sys
import threading
import time
from typing import Callable

import numpy as np
from tqdm import tqdm

from lineart_jax import atomic_files, video
from lineart_jax.data.imageio import ImageError, read_color, read_line
from lineart_jax.dataset_plan import ImageJob, Plan, VideoJob
from lineart_jax.extractors import to_uint8
from lineart_jax.style import Style


@dataclasses.dataclass
class Options:
  style: Style = Style()
  threshold: float | None = None
  max_side: int | None = None
  io_threads: int = 2
  prefetch: int = 8


@dataclasses.dataclass
class Summary:
  images: int = 0             # images and video frames computed
  pixels: int = 0
  videos: int = 0             # line-art videos written
  seconds: float = 0.0
  network_seconds: float = 0.0  # of ``seconds``, in the network: the rest is waiting for files
  failures: list = dataclasses.field(default_factory=list)   # (input, reason)


@dataclasses.dataclass
class _Item:
  job: object                 # ImageJob | VideoJob
  index: int | None           # a video frame's index
  future: cf.Future | None    # the decoded RGB image
  end: bool = False           # a video's stream ended (index: its frame count)


def _done_future(value=None, error: BaseException | None = None) -> cf.Future:
  f = cf.Future()
  if error is not None:
    f.set_exception(error)
  else:
    f.set_result(value)
  return f


class _Reader(threading.Thread):
  """Puts ``_Item``s for the plan's jobs in order on a bounded queue."""

  def __init__(self, jobs, pool, items: queue.Queue, stop: threading.Event):
    super().__init__(daemon=True, name="lineart-reader")
    self.jobs, self.pool, self.items, self.stop = jobs, pool, items, stop

  def put(self, item):
    while not self.stop.is_set():
      try:
        self.items.put(item, timeout=0.2)
        return
      except queue.Full:
        pass
    raise SystemExit  # the run stopped: end this thread quietly

  def run(self):
    try:
      for job in self.jobs:
        if isinstance(job, ImageJob):
          self.put(_Item(job, None, self.pool.submit(read_color, job.source.path)))
          continue
        count = 0
        try:
          for index, frame in video.read_frames(job.source.path, job.wanted):
            count = index + 1
            if frame is not None:
              self.put(_Item(job, index, _done_future(frame)))
        except ImageError as e:  # OpenCV cannot open it (the plan could: it changed)
          self.put(_Item(job, None, _done_future(error=e)))
          continue
        self.put(_Item(job, count, None, end=True))
      self.put(None)
    except SystemExit:
      pass
    except BaseException as e:  # a bug: hand it to the network thread to raise
      self.items.put(_Item(None, None, _done_future(error=e)))


def _write_video(job: VideoJob, count: int, writes: list[cf.Future], log
                 ) -> tuple[bool, str | None]:
  """Waits for this run's writes of ``job``'s frames, then writes its line-art
  video when every frame of the stream is present (any shard's); (whether this
  run wrote it, a failure reason or None)."""
  cf.wait(writes)
  if count == 0:
    return False, "the video has no frames OpenCV can decode"
  indices = list(range(0, count, job.every))
  missing = [i for i in indices if not atomic_files.is_whole_png(job.frame_path(i))]
  if missing:
    mine = set(job.frames_of_shard(count))
    if any(i in mine for i in missing):
      return False, (f"{len(missing)} of {len(indices)} line-art frames missing (failed "
                     f"above); the video is written once they are done")
    log(f"{job.source.path}: {len(indices) - len(missing)} of {len(indices)} frames done; "
        f"the run of the shard that ends last writes {job.output}")
    return False, None
  info = job.info
  try:
    n = video.write_video(job.output, (read_line(job.frame_path(i)) for i in indices),
                          info.fps / job.every, (info.width, info.height), job.video_format)
  except (ImageError, OSError) as e:
    if os.path.isfile(job.output):  # another shard wrote it and removed the frames meanwhile
      return False, None
    return False, f"writing the line-art video: {e}"
  shutil.rmtree(job.frame_dir, ignore_errors=True)
  log(f"wrote {job.output} ({n} frames, {info.width}x{info.height}, "
      f"{info.fps / job.every:g} fps)")
  return True, None


def run(plan: Plan, extractor, options: Options, log: Callable[[str], None] | None = None
        ) -> Summary:
  """Computes ``plan``'s jobs with ``extractor`` (a ``lineart_jax.LineArtExtractor``);
  returns what was done and what failed."""
  log = log or (lambda message: print(message, file=sys.stderr))
  summary, lock = Summary(), threading.Lock()
  atomic_files.remove_stale_temporaries(plan.output_folders)

  def fail(where: str, reason: str):
    reason = reason[len(where) + 2:] if reason.startswith(where + ": ") else reason
    with lock:
      summary.failures.append((where, reason))
    log(f"error: {where}: {reason}")

  pool = cf.ThreadPoolExecutor(options.io_threads, thread_name_prefix="lineart-io")
  assembler = cf.ThreadPoolExecutor(1, thread_name_prefix="lineart-video")
  items: queue.Queue = queue.Queue(max(options.prefetch, 2 * options.io_threads))
  writes: collections.deque[cf.Future] = collections.deque()  # submitted, maybe not done
  video_writes: dict[int, list[cf.Future]] = {}
  assemblies = []
  stop = threading.Event()
  reader = _Reader(plan.jobs, pool, items, stop)
  bar = tqdm(total=plan.todo, desc="images", unit="image")
  start = time.perf_counter()

  def write(item: _Item, lines: np.ndarray):
    try:
      out = item.job.output if item.index is None else item.job.frame_path(item.index)
      atomic_files.write_png(out, to_uint8(lines, options.threshold))
      with lock:
        summary.images += 1
        summary.pixels += lines.size
    except (ImageError, OSError) as e:
      fail(item.job.source.path + ("" if item.index is None else f"#{item.index}"), str(e))

  def flush(group: list[tuple[_Item, np.ndarray]]):
    if not group:
      return
    name = os.path.basename(group[0][0].job.source.path) if len(group) == 1 else ""
    t0 = time.perf_counter()
    results = extractor.lines([im for _, im in group], options.style, options.max_side,
                              name)
    summary.network_seconds += time.perf_counter() - t0
    limit = max(options.prefetch, 2 * len(group))  # results held in memory, at most
    for (item, _), lines in zip(group, results):
      while writes and (writes[0].done() or len(writes) >= limit):
        writes.popleft().result()
      f = pool.submit(write, item, lines)
      writes.append(f)
      if isinstance(item.job, VideoJob):
        video_writes.setdefault(id(item.job), []).append(f)
    bar.update(len(group))
    group.clear()

  reader.start()
  group: list[tuple[_Item, np.ndarray]] = []
  group_size = 1
  try:
    while True:
      item = items.get()
      if item is None:
        break
      if item.job is None:  # the reader failed
        item.future.result()
      if item.end:
        flush(group)
        if item.job.output:
          writes = video_writes.pop(id(item.job), [])
          assemblies.append((item.job, assembler.submit(_write_video, item.job, item.index,
                                                        writes, log)))
        continue
      try:
        image = item.future.result()
      except (ImageError, OSError) as e:
        fail(item.job.source.path, str(e))
        continue
      if group and group[0][1].shape != image.shape:
        flush(group)
      if not group:
        group_size = extractor.images_per_call(*image.shape[:2], options.max_side)
      group.append((item, image))
      if len(group) >= group_size:
        flush(group)
    flush(group)
  finally:
    stop.set()
    pool.shutdown(wait=True)   # every result computed is written, even on an error
    for job, f in assemblies:
      written, reason = f.result()
      summary.videos += written
      if reason:
        fail(job.source.path, reason)
    assembler.shutdown(wait=True)
    bar.close()
    summary.seconds = time.perf_counter() - start
  return summary


def write_failures(path: str, failures: list[tuple[str, str]]) -> None:
  """The inputs that failed and why (TSV), replacing an earlier run's list; no
  failures: no list.  Rerunning the same command retries exactly these inputs
  (everything else is done and skipped)."""
  if not failures:
    if os.path.isfile(path):
      os.remove(path)
    return
  lines = ["input\treason"] + [f"{where}\t{' '.join(reason.split())}"
                               for where, reason in failures]
  atomic_files.write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
