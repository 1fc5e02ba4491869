"""What a run over files has to do, decided before any of it is done.

A run over a dataset must keep every file, be resumable and split across
machines, so all of that is settled here, from the inputs alone, before a model
is loaded or a file written:

* **names**: each input has a relative name (its path under the folder given,
  under the fixed part of a glob, or its file name) which ``--out`` mirrors:
  ``frames/ep1/0001.jpg`` -> ``OUT/ep1/0001_lineart.png``.  A video ``ep1.mkv``
  gives ``ep1_lineart.mp4`` (``--video-format mkv``: lossless ``.mkv``) or, with
  ``--frames``, the folder ``ep1_lineart/`` of ``000000.png``, ``000001.png``...
  (frame indices of the source).  Two inputs that still map to one output are
  refused, naming both (``Plan.collisions``).
* **shards**: ``--shard K/N`` keeps the inputs whose relative name (a video
  frame: name and index) hashes to K modulo N.  A hash of the name, not a
  position in a list, so the share does not change when the same files are
  listed in another order or found by another walk, and N processes cover the
  set exactly once.
* **resume**: an output that exists and is whole (``atomic_files``) is skipped,
  unless ``overwrite``.

Video frames are counted from the container's header here (for the resume line
and the progress bar); the run reads the stream itself, which decides.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import os

from lineart_jax import atomic_files, video
from lineart_jax.data.imageio import IMAGE_EXTENSIONS

SUFFIX = "_lineart"                # every output: <stem>_lineart.png / .mp4 / folder
WORK_FOLDER = SUFFIX + ".frames"   # a video's line-art frames until the video is written
FAILURES = "lineart_failures"      # the list of failed inputs, in --out


@dataclasses.dataclass(frozen=True)
class Source:
  path: str   # as found
  rel: str    # its name relative to the input it was found under ('/'-separated)


@dataclasses.dataclass
class ImageJob:
  source: Source
  output: str


@dataclasses.dataclass
class VideoJob:
  """A video: its frames go to ``frame_dir`` (the output with ``--frames``, else a
  work folder), and, without ``--frames``, into the video ``output`` once all
  are there."""
  source: Source
  info: video.VideoInfo | None
  frame_dir: str
  output: str | None   # the line-art video; None with --frames
  every: int
  shard: tuple[int, int] | None
  overwrite: bool
  video_format: str = "mp4"

  def frame_path(self, index: int) -> str:
    return os.path.join(self.frame_dir, f"{index:06d}.png")

  def frame_key(self, index: int) -> str:
    return f"{self.source.rel}#{index}"

  def wanted(self, index: int) -> bool:
    """Whether this run computes frame ``index``: on the ``every`` grid, in the
    shard, not already done (the frame's PNG whole, unless overwriting)."""
    return (index % self.every == 0 and in_shard(self.frame_key(index), self.shard)
            and (self.overwrite or not atomic_files.is_whole_png(self.frame_path(index))))

  def frames_of_shard(self, count: int) -> list[int]:
    return [i for i in range(0, count, self.every) if in_shard(self.frame_key(i), self.shard)]


@dataclasses.dataclass
class Plan:
  jobs: list                              # ImageJob | VideoJob, in input order
  errors: list[str]                       # inputs that match nothing
  collisions: list[str]                   # outputs two inputs would write: refuse the run
  skipped: int = 0                        # outputs already done (images and frames)
  todo: int = 0                           # images and (header-counted) frames to compute
  failures: list = dataclasses.field(default_factory=list)  # (video, why OpenCV cannot read it)
  failures_file: str | None = None        # where the run lists its failed inputs (--out)
  output_folders: set = dataclasses.field(default_factory=set)


def parse_shard(text: str) -> tuple[int, int]:
  """``"K/N"`` -> (K, N) with 0 <= K < N; ValueError says what is wrong."""
  try:
    k, n = (int(part) for part in text.split("/"))
  except ValueError:
    raise ValueError(f"--shard {text}: expected K/N, e.g. 0/4 (shard K of N, from 0)") from None
  if not 0 <= k < n:
    raise ValueError(f"--shard {text}: needs 0 <= K < N")
  return k, n


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
  """Whether ``key`` (a relative name) belongs to shard K of N: its SHA-1 modulo
  N, the same on every machine, Python version and listing order."""
  if shard is None:
    return True
  k, n = shard
  return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") % n == k


def _wanted_file(name: str) -> bool:
  stem, ext = os.path.splitext(name)
  return (ext.lower() in IMAGE_EXTENSIONS + video.VIDEO_EXTENSIONS
          and not stem.endswith(SUFFIX) and not atomic_files.is_temporary(name))


def _is_output_folder(name: str) -> bool:
  return name.endswith(SUFFIX) or name.endswith(WORK_FOLDER)


def _glob_root(pattern: str) -> str:
  """The part of a glob before its first wildcard component: what its matches'
  relative names are relative to."""
  parts = os.path.normpath(pattern).split(os.sep)
  fixed = []
  for part in parts[:-1]:
    if glob.has_magic(part):
      break
    fixed.append(part)
  return os.sep.join(fixed) if fixed else (os.sep if pattern.startswith(os.sep) else ".")


def _rel(path: str, root: str) -> str:
  return os.path.relpath(path, root).replace(os.sep, "/")


def expand_inputs(inputs: list[str]) -> tuple[list[Source], list[str]]:
  """(images and videos with their relative names, error messages for inputs
  that match nothing).  Folders are walked recursively, leaving out this
  program's outputs (``*_lineart.*`` files, ``*_lineart/`` folders); a file
  reached twice is listed once."""
  sources, errors, seen = [], [], set()

  def add(path, rel):
    key = os.path.realpath(path)
    if key not in seen:
      seen.add(key)
      sources.append(Source(path, rel))

  for item in inputs:
    if os.path.isdir(item):
      found = []
      for d, dirs, files in os.walk(item):
        dirs[:] = sorted(x for x in dirs if not _is_output_folder(x))
        found += [os.path.join(d, f) for f in sorted(files) if _wanted_file(f)]
      for path in found:
        add(path, _rel(path, item))
      if not found:
        errors.append(f"{item}: no images or videos in this folder")
    elif os.path.exists(item):
      add(item, os.path.basename(item))
    else:
      matches = sorted(m for m in glob.glob(item, recursive=True) if os.path.isfile(m))
      root = _glob_root(item)
      for path in matches:
        add(path, _rel(path, root))
      if not matches:
        errors.append(f"{item}: no such file, folder or matching glob")
  return sources, errors


def output_base(source: Source, out: str | None) -> str:
  """The output path of ``source`` without extension: ``OUT/<rel dir>/<stem>_lineart``,
  or beside the input without ``--out``."""
  stem = os.path.splitext(os.path.basename(source.rel))[0] + SUFFIX
  if out is None:
    return os.path.join(os.path.dirname(os.path.abspath(source.path)), stem)
  return os.path.join(out, *source.rel.split("/")[:-1], stem)


def _collisions(claims: list[tuple[str, bool, str]]) -> list[str]:
  """Messages for outputs claimed twice: ``claims`` (path, is a folder, input)."""
  owner, messages = {}, []
  folders = {}
  for path, is_folder, source in claims:
    key = os.path.normcase(os.path.abspath(path))
    if key in owner and owner[key] != source:
      messages.append(f"{owner[key]} and {source} would both write {path}")
    owner.setdefault(key, source)
    if is_folder:
      folders.setdefault(key, source)
  for path, _, source in claims:  # an output inside another input's folder of frames
    parent = os.path.dirname(os.path.normcase(os.path.abspath(path)))
    while parent and parent != os.path.dirname(parent):
      if parent in folders and folders[parent] != source:
        messages.append(f"{folders[parent]} and {source} would both write into {parent}")
        break
      parent = os.path.dirname(parent)
  return messages


def make_plan(inputs: list[str], out: str | None = None, *, frames: bool = False,
              every: int = 1, shard: tuple[int, int] | None = None,
              overwrite: bool = False, video_format: str = "mp4") -> Plan:
  """The jobs of a run (see the module), refusals and the resume count; reads
  only folder listings, video headers and the ends of existing outputs."""
  if every < 1:
    raise ValueError(f"--every {every}: must be at least 1")
  sources, errors = expand_inputs(inputs)
  plan = Plan([], errors, [])
  claims = []
  for source in sources:
    base = output_base(source, out)
    if not video.is_video(source.path):
      output = base + ".png"
      claims.append((output, False, source.path))
      plan.output_folders.add(os.path.dirname(os.path.abspath(output)))
      if not in_shard(source.rel, shard):
        continue
      if not overwrite and atomic_files.is_whole_png(output):
        plan.skipped += 1
      else:
        plan.jobs.append(ImageJob(source, output))
        plan.todo += 1
      continue
    output = None if frames else base + video.FORMATS[video_format][0]
    frame_dir = base if frames else base + WORK_FOLDER[len(SUFFIX):]
    claims.append((frame_dir, True, source.path))
    if output:
      claims.append((output, False, source.path))
      plan.output_folders.add(os.path.dirname(os.path.abspath(output)))
    plan.output_folders.add(os.path.abspath(frame_dir))
    try:
      info = video.probe(source.path)
    except video.VideoError as e:
      plan.failures.append((source.path, str(e).removeprefix(source.path + ": ")))
      continue
    job = VideoJob(source, info, frame_dir, output, every, shard, overwrite, video_format)
    mine = job.frames_of_shard(info.frames)
    if output and not overwrite and os.path.isfile(output):
      plan.skipped += len(mine)  # written whole (atomic), every frame with it
      continue
    done = sum(1 for i in mine if not overwrite and atomic_files.is_whole_png(job.frame_path(i)))
    plan.skipped += done
    plan.todo += len(mine) - done
    # A video's line art is written by the run that finds every frame present at the
    # end of its stream, so such a run reads the stream even when its own frames
    # are done; with --frames, a video whose frames (as its header counts them)
    # are all done is skipped unread.
    if output or done < len(mine):
      plan.jobs.append(job)
  plan.collisions = _collisions(claims)
  if out is not None:
    suffix = f".shard-{shard[0]}-of-{shard[1]}" if shard else ""
    plan.failures_file = os.path.join(out, FAILURES + suffix + ".tsv")
  return plan
