"""Outputs that are whole or absent: write to a temporary name, then rename.

A dataset run may be killed at any moment (SIGKILL, a preempted job, a node that
dies).  If it wrote straight to the final name, a kill mid-write would leave a
truncated PNG there, which a resumed run would take for a finished output.  So
every output is written to a hidden temporary file in the same folder
(``.<name>.<host>.<pid>.tmp``), flushed to disk, and renamed over the final name
(``os.replace``: atomic on POSIX filesystems): a final name always holds a whole
file.  What a killed writer leaves is only its temporary file, which
``remove_stale_temporaries`` deletes on the next run once its process is gone.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Callable

import cv2
import numpy as np

from lineart_jax.data.imageio import ImageError

HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)\.tmp(\.\w+)?$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk every whole PNG ends with


def temporary_name(path: str, extension: str = "") -> str:
  """Where ``path`` is written before its rename: hidden, in the same folder (a
  rename across filesystems would not be atomic), naming this host and process.
  ``extension``: for writers that choose the format by the name (OpenCV's video
  writer)."""
  folder, name = os.path.split(os.path.abspath(path))
  return os.path.join(folder, f".{name}.{HOST}.{os.getpid()}.tmp{extension}")


def is_temporary(name: str) -> bool:
  """Whether a file name is one of ``temporary_name``'s."""
  return _TEMP.match(name) is not None


def publish(temporary: str, path: str) -> None:
  """Flushes ``temporary`` to disk and renames it to ``path`` (replacing it)."""
  fd = os.open(temporary, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)
  os.replace(temporary, path)


def write_with(path: str, write: Callable[[str], None], extension: str = "") -> None:
  """Calls ``write(temporary)``, then publishes the temporary file as ``path``;
  on any failure the temporary file is removed and ``path`` is left as it was."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  temporary = temporary_name(path, extension)
  try:
    write(temporary)
    publish(temporary, path)
  except BaseException:
    try:
      os.remove(temporary)
    except OSError:
      pass
    raise


def write_bytes(path: str, data: bytes) -> None:
  def write(temporary):
    with open(temporary, "wb") as f:
      f.write(data)
  write_with(path, write)


def write_png(path: str, img: np.ndarray) -> None:
  """Gray (H, W) or RGB (H, W, 3) uint8 as a PNG at ``path``, atomically."""
  if img.ndim == 3 and img.shape[2] == 3:
    img = img[..., ::-1]
  ok, encoded = cv2.imencode(".png", img)
  if not ok:
    raise ImageError(f"{path}: could not encode the image as PNG")
  write_bytes(path, encoded.tobytes())


def is_whole_png(path: str) -> bool:
  """Whether ``path`` is a PNG that ends with its IEND chunk: a cheap test (two
  short reads) that tells a finished output from a missing or truncated one,
  written by this module or by anything else."""
  try:
    with open(path, "rb") as f:
      head = f.read(len(PNG_SIGNATURE))
      f.seek(0, os.SEEK_END)
      if f.tell() < len(PNG_SIGNATURE) + len(PNG_END):
        return False
      f.seek(-len(PNG_END), os.SEEK_END)
      return head == PNG_SIGNATURE and f.read() == PNG_END
  except OSError:
    return False


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # someone else's process
    return True
  return True


def remove_stale_temporaries(folders) -> int:
  """Deletes the temporary files in ``folders`` left by writers of this host
  whose process has ended (killed mid-write); another host's, or a live
  process's (a shard running beside this one), are left alone.  The count."""
  removed = 0
  for folder in folders:
    try:
      entries = list(os.scandir(folder))
    except OSError:
      continue
    for entry in entries:
      m = _TEMP.match(entry.name)
      if m and m["host"] == HOST and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
        try:
          os.remove(entry.path)
          removed += 1
        except OSError:
          pass
  return removed
