"""The Grain input pipeline: (color, line) pairs -> augmented uint8 batches.

    MapDataset.source(pairs) -> EpochShuffle(seed) -> repeat -> random_map(augment)
      -> ProcessSlice(this process's rows of each global batch)
      -> batch(per-process batch, drop_remainder)
      -> IterDataset (+ multiprocess prefetch when workers > 0)

Every random choice comes from Grain's per-element generator, derived from
(seed, global element index), and each process reads only its own rows of every
global batch, so a global batch is the same whatever the number of workers AND
of processes: a run resumed on another number of hosts sees the same data, and
the multi-process test can compare against one process exactly.  (Sharding the
source per process before shuffling, the other common layout, gives each host
different batches per host count.)  The iterator state (a position) checkpoints
with orbax via ``grain.checkpoint``.  Batches are uint8 (``color``
(B, S, S, 3), ``line`` (B, S, S, 1)): a quarter of the traffic of float32.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
import time

import cv2
import grain
from absl import flags
import numpy as np

from lineart_jax.data.imageio import ImageError, read_color, read_line
from lineart_jax.data.packed import PackedSource, is_packed
from lineart_jax.data.pairs import find_pairs, pairs_from_root
from lineart_jax.data.synthetic import SyntheticSource
from lineart_jax.style import fit_vector

# Luminance-preserving hue rotation (the matrix of CSS filter hue-rotate):
# gray stays gray, and any angle is exact, unlike OpenCV's 2-degree uint8 HSV.
_LUMA = np.array([0.213, 0.715, 0.072], np.float32)


def hue_rotation_matrix(degrees: float) -> np.ndarray:
  c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
  lum = np.tile(_LUMA, (3, 1))
  cos_part = np.array([[0.787, -0.715, -0.072], [-0.213, 0.285, -0.072],
                       [-0.213, -0.715, 0.928]], np.float32)
  sin_part = np.array([[-0.213, -0.715, 0.928], [0.143, 0.140, -0.283],
                       [-0.787, 0.715, 0.072]], np.float32)
  return (lum + c * cos_part + s * sin_part).astype(np.float32)


def rotate_hue(rgb: np.ndarray, degrees: float) -> np.ndarray:
  """uint8 RGB (H, W, 3) with its hue rotated by ``degrees`` (rounded, saturated)."""
  return cv2.transform(rgb, hue_rotation_matrix(degrees))


def pad_with_paper(color: np.ndarray, line: np.ndarray, size: int
                   ) -> tuple[np.ndarray, np.ndarray]:
  """Pads a pair smaller than ``size`` at the bottom/right with white (paper)."""
  h, w = line.shape
  if h >= size and w >= size:
    return color, line
  ph, pw = max(0, size - h), max(0, size - w)
  return (np.pad(color, ((0, ph), (0, pw), (0, 0)), constant_values=255),
          np.pad(line, ((0, ph), (0, pw)), constant_values=255))


@dataclasses.dataclass(frozen=True)
class Augment:
  """The seed's augmentation, applied to one pair with Grain's per-element rng.

  The same random ``crop`` x ``crop`` window of both images (a pair smaller than
  the window is padded with white paper), random horizontal and vertical flips of
  both, a random hue rotation of the color image only.  With ``min_scale < 1`` or
  ``max_scale > 1`` a window of ``crop / scale`` pixels (scale uniform in
  [min_scale, max_scale]) is taken and resized to ``crop`` (INTER_AREA down,
  INTER_LINEAR up), teaching the network smaller drawings and thicker lines.

  ``style_dims`` > 0 (a model with a style input): the pair's ``style`` vector
  travels with it (the default style, zeros, for pairs without one).
  """
  crop: int = 128
  flips: bool = True
  hue: bool = True
  min_scale: float = 1.0
  max_scale: float = 1.0
  style_dims: int = 0

  def __call__(self, pair: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    color, line = pair["color"], pair["line"]
    rescale = self.min_scale < 1.0 or self.max_scale > 1.0
    scale = rng.uniform(self.min_scale, self.max_scale) if rescale else 1.0
    win = max(8, int(round(self.crop / scale)))
    color, line = pad_with_paper(color, line, win)
    h, w = line.shape
    y, x = int(rng.integers(0, h - win + 1)), int(rng.integers(0, w - win + 1))
    color = np.array(color[y:y + win, x:x + win])  # copies only the window
    line = np.array(line[y:y + win, x:x + win])
    if win != self.crop:
      interp = cv2.INTER_AREA if win > self.crop else cv2.INTER_LINEAR
      color = cv2.resize(color, (self.crop, self.crop), interpolation=interp)
      line = cv2.resize(line, (self.crop, self.crop), interpolation=interp)
    flip_h, flip_v, degrees = rng.random() < 0.5, rng.random() < 0.5, rng.uniform(0, 360)
    if self.flips and flip_h:
      color, line = color[:, ::-1], line[:, ::-1]
    if self.flips and flip_v:
      color, line = color[::-1], line[::-1]
    if self.hue:
      color = rotate_hue(color, degrees)
    return with_style({"color": np.ascontiguousarray(color),
                       "line": np.ascontiguousarray(line)[..., None]}, pair, self.style_dims)


def with_style(out: dict, pair: dict, style_dims: int) -> dict:
  """``out`` plus the pair's style vector when the model reads one (see ``Augment``)."""
  if style_dims:
    style = pair.get("style")
    out["style"] = (np.zeros(style_dims, np.float32) if style is None
                    else fit_vector(style, style_dims))
  return out


class FileSource:
  """Pairs decoded from image files on every access (small sets; prefer packing).

  A pair that fails to decode is logged and replaced by the next readable pair,
  so one bad file never stops a run; ``skipped`` counts them in this process.
  """

  def __init__(self, root_or_manifest: str):
    if os.path.isdir(root_or_manifest):
      self.pairs, unpaired = pairs_from_root(root_or_manifest)
      if unpaired:
        logging.warning("%s: %d images have no partner of the same name and are not used "
                        "(e.g. %s); python -m lineart_jax.data.validate lists them all",
                        root_or_manifest, len(unpaired), ", ".join(unpaired[:3]))
    else:
      self.pairs = find_pairs(root_or_manifest)
    if not self.pairs:
      raise ValueError(f"{root_or_manifest}: no (color, line) pairs found")
    self.skipped = 0

  def __len__(self) -> int:
    return len(self.pairs)

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    for k in range(len(self.pairs)):
      pair = self.pairs[(int(index) + k) % len(self.pairs)]
      try:
        color, line = read_color(pair.color), read_line(pair.line)
        if color.shape[:2] != line.shape:
          raise ImageError(f"{pair.line}: size {line.shape[::-1]} differs from its color "
                           f"image {color.shape[1::-1]}; run lineart_jax.data.validate")
        out = {"color": color, "line": line}
        if pair.style is not None:
          out["style"] = pair.style.vector()
        return out
      except ImageError as e:
        self.skipped += 1
        logging.warning("skipping bad pair (%d skipped so far in pid %d): %s",
                        self.skipped, os.getpid(), e)
    raise ImageError("no readable pair left in the dataset")

  def name(self, index: int) -> str:
    """The file name of the pair's color image (for reports)."""
    return os.path.basename(self.pairs[int(index)].color)


def open_source(root: str | None, seed: int, synthetic_size: int = 256, styles: bool = False):
  """The configured source: packed folder, dataset root/manifest, or synthetic
  (``styles``: synthetic line art in random styles, for a model with a style input)."""
  if not root:
    return SyntheticSource(seed=seed, size=synthetic_size, styles=styles)
  if is_packed(root):
    return PackedSource(root)
  if not os.path.exists(root):
    raise FileNotFoundError(f"data root {root} does not exist")
  logging.warning("%s is not packed: decoding images on every read is slow; run "
                  "python -m lineart_jax.data.prepare %s --out DIR", root, root)
  return FileSource(root)


class EpochShuffle(grain.MapDataset):
  """Grain's ``MapDataset.shuffle`` semantics, O(1) per element on any size.

  Element ``i`` of epoch ``e`` (index ``e * n + i``, as ``repeat`` asks) is
  ``parent[perm_e[i]]`` with ``perm_e`` a numpy permutation seeded by
  (seed, e), built once per epoch.  Grain's own shuffle (a Feistel
  ``index_shuffle``) costs 3 ms per element for 8 pairs and 0.5 ms for 64: more
  than the whole augmentation of a small dataset.
  """

  def __init__(self, parent: grain.MapDataset, seed: int):
    super().__init__(parent)
    self._seed, self._n = seed, len(parent)
    self._perms: dict[int, np.ndarray] = {}

  def __len__(self) -> int:
    return self._n

  def __str__(self) -> str:
    return f"EpochShuffle(seed={self._seed})"

  def _perm(self, epoch: int) -> np.ndarray:
    perm = self._perms.get(epoch)
    if perm is None:
      perm = np.random.default_rng([self._seed, epoch]).permutation(self._n)
      self._perms = {epoch: perm, **{k: v for k, v in self._perms.items() if k == epoch - 1}}
    return perm

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    epoch, i = divmod(int(index), self._n)
    return self._parent[int(self._perm(epoch)[i])]


class ProcessSlice(grain.MapDataset):
  """This process's rows of every global batch of the stream ``parent``.

  Local element ``j`` is row ``p * L + j % L`` of global batch
  ``start_batch + j // L`` (``L`` = per-process batch, ``p`` = process index),
  i.e. global element ``(start_batch + j // L) * B + p * L + j % L``.
  """

  def __init__(self, parent: grain.MapDataset, global_batch: int, process_index: int,
               process_count: int, start_batch: int = 0):
    super().__init__(parent)
    if global_batch % process_count:
      raise ValueError(f"global batch {global_batch} is not divisible by the number of "
                       f"processes ({process_count})")
    self._global, self._local = global_batch, global_batch // process_count
    self._offset = process_index * self._local
    self._start = start_batch

  def __len__(self) -> int:
    return len(self._parent) // self._global * self._local

  def __str__(self) -> str:
    return f"ProcessSlice(rows {self._offset}..{self._offset + self._local - 1} of {self._global})"

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    b, r = divmod(int(index), self._local)
    return self._parent[(self._start + b) * self._global + self._offset + r]


class Subset:
  """The pairs of ``source`` at ``indices`` (e.g. the training split)."""

  def __init__(self, source, indices):
    self.source, self.indices = source, np.asarray(indices, np.int64)
    if not len(self.indices):
      raise ValueError(f"{source!r}: empty subset")

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, index: int):
    return self.source[int(self.indices[index])]

  def __repr__(self) -> str:
    return f"Subset({self.source!r}, {len(self)} pairs)"


def split_indices(n: int, val_count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(train, validation) indices: a fixed random ``val_count`` held out."""
  if n < 2 or val_count <= 0:
    return np.arange(n), np.arange(0)
  val_count = min(val_count, max(1, n // 10))
  perm = np.random.default_rng(seed).permutation(n)
  return np.sort(perm[val_count:]), np.sort(perm[:val_count])


def make_dataset(source, *, global_batch: int, seed: int, augment: Augment,
                 workers: int = 0, process_index: int = 0, process_count: int = 1,
                 indices: np.ndarray | None = None, start_batch: int = 0,
                 prefetch_buffer: int = 4, read_threads: int | None = None
                 ) -> grain.IterDataset:
  """This process's endless stream of (global_batch / process_count)-sized batches.

  ``start_batch`` skips that many global batches (resuming without a saved
  iterator state, e.g. on another number of processes).
  """
  if indices is not None:
    source = Subset(source, indices)
  ds = grain.MapDataset.source(source)
  ds = EpochShuffle(ds, seed).repeat().random_map(augment, seed=seed)
  ds = ProcessSlice(ds, global_batch, process_index, process_count, start_batch)
  ds = ds.batch(global_batch // process_count, drop_remainder=True)
  # Grain's default of 16 reader threads halves throughput on a 2-core host
  # (measured: 1,330 vs 2,870 pairs/s); with worker processes, threads in each
  # worker only contend with the other workers.
  threads = (0 if workers > 0 else 2) if read_threads is None else read_threads
  it = ds.to_iter_dataset(grain.ReadOptions(num_threads=threads,
                                            prefetch_buffer_size=2 * threads))
  if workers > 0:
    if not flags.FLAGS.is_parsed():
      # Grain's workers read absl flags; outside an absl app, use their defaults.
      flags.FLAGS.mark_as_parsed()
    it = it.mp_prefetch(grain.MultiprocessingOptions(
        num_workers=workers, per_worker_buffer_size=prefetch_buffer),
        worker_init_fn=functools.partial(end_with_parent, os.getpid()))
  return it


def end_with_parent(parent_pid: int, worker_index: int = 0, worker_count: int = 0,
                    poll_s: float = 0.5) -> None:
  """Loader worker start-up: the worker ends when the trainer that started it dies.

  A trainer that exits normally stops its workers (``TrainStream.close``), but
  one killed by SIGKILL, the OOM killer or a hard preemption cannot, and its
  Grain workers (each holding a copy of the data source, hundreds of MB) would
  live on under init, using CPU.  A daemon thread in each worker watches the
  parent pid and exits when the worker is re-parented.  (Linux's
  PR_SET_PDEATHSIG is not enough: it follows the *thread* that started the
  worker, and Grain may start workers from a helper thread.)
  """
  del worker_index, worker_count

  def watch():
    while os.getppid() == parent_pid:
      time.sleep(poll_s)
    os._exit(1)  # no cleanup to run: the worker only read data

  if os.getppid() != parent_pid:  # the trainer died before this worker started
    os._exit(1)
  threading.Thread(target=watch, name="lineart-end-with-parent", daemon=True).start()


class TrainStream:
  """The training batches and the one record of which batch comes next.

  The stream is a pure function of the global batch index (see
  ``ProcessSlice``), so the position is "global batch ``start_batch`` of a
  stream built there, plus what Grain's iterator has consumed since".  This
  class alone builds streams and interprets saved positions:

  * ``position()`` is what a checkpoint stores beside Grain's iterator state:
    the stream's ``start_batch`` and what the Grain state's format depends on
    (process and loader-worker counts);
  * ``resume(saved, step)`` restores Grain's state on a stream rebuilt at the
    saved ``start_batch`` when the counts match, and otherwise starts a new
    stream at ``step`` (whose position the next checkpoint then records), so
    any sequence of resumes on any process/worker counts sees exactly the
    batches of an uninterrupted run.
  """

  def __init__(self, build, workers: int, process_count: int):
    """``build(start_batch)`` -> this process's ``grain.IterDataset`` from that batch."""
    self._build, self.workers, self.process_count = build, workers, process_count
    self.start_batch = 0
    self.iterator = None

  def start(self, start_batch: int) -> "TrainStream":
    self.close()
    self.start_batch = int(start_batch)
    self.iterator = iter(self._build(self.start_batch))
    return self

  def __next__(self):
    return next(self.iterator)

  def position(self) -> dict:
    return {"start_batch": self.start_batch, "process_count": self.process_count,
            "data_workers": self.workers}

  def can_restore(self, saved: dict | None) -> bool:
    """Whether a saved Grain state (with its ``position()``) fits this stream's format."""
    return bool(saved) and all(saved.get(k) == v for k, v in self.position().items()
                               if k != "start_batch") and "start_batch" in saved

  def close(self) -> None:
    """Stops the loader's worker processes (and frees their shared memory)."""
    if self.iterator is not None and hasattr(self.iterator, "close"):
      self.iterator.close()
    self.iterator = None


def center_crop(pair: dict, size: int, style_dims: int = 0) -> dict[str, np.ndarray]:
  """A deterministic ``size`` x ``size`` center window (white-padded if smaller)."""
  color, line = pad_with_paper(pair["color"], pair["line"], size)
  h, w = line.shape
  y, x = (h - size) // 2, (w - size) // 2
  return with_style({"color": np.array(color[y:y + size, x:x + size]),
                     "line": np.array(line[y:y + size, x:x + size])[..., None]}, pair, style_dims)
