"""Videos in and out, with OpenCV: a video is read as the sequence of its frames,
and line-art frames are written back as a video of the source's size and rate.

Why frames are addressed by their index: a dataset run resumes and shards by
unit of work, and a frame's index in the decoded stream is what stays the same
between runs and machines (timestamps and seeking are not exact in every
container, so frames are always read in order from the start, and the frames a
run does not need are only grabbed, not converted).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Iterator

import cv2
import numpy as np

from lineart_jax import atomic_files
from lineart_jax.data.imageio import ImageError

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
# Line-art video formats: (extension, OpenCV fourcc).  mp4: MPEG-4 part 2, which
# every OpenCV build writes and every player plays, lossy (about 1 bit per pixel
# at OpenCV's settings: a few levels off, more at line edges); mkv: FFV1, lossless
# (the frames exactly; several times larger), for datasets.
FORMATS = {"mp4": (".mp4", "mp4v"), "mkv": (".mkv", "FFV1")}


class VideoError(ImageError):
  """A video that cannot be used; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class VideoInfo:
  frames: int   # the container's frame count: an estimate for some containers (MKV)
  fps: float
  width: int
  height: int


def is_video(path: str) -> bool:
  return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def _open(path: str) -> cv2.VideoCapture:
  if not os.path.isfile(path):
    raise VideoError(f"{path}: no such video file")
  cap = cv2.VideoCapture(path)
  if not cap.isOpened():
    cap.release()
    raise VideoError(f"{path}: not a readable video (OpenCV could not open it)")
  return cap


def probe(path: str) -> VideoInfo:
  """The frame count, rate and size a video's header declares."""
  cap = _open(path)
  try:
    info = VideoInfo(max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))),
                     float(cap.get(cv2.CAP_PROP_FPS)),
                     int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
  finally:
    cap.release()
  if info.width <= 0 or info.height <= 0:
    raise VideoError(f"{path}: the video declares no frame size")
  if not info.fps > 0:
    raise VideoError(f"{path}: the video declares no frame rate")
  return info


def read_frames(path: str, wanted: Callable[[int], bool]
                ) -> Iterator[tuple[int, np.ndarray | None]]:
  """(index, RGB uint8 frame) for every frame of the stream in order, the frame
  None where ``wanted(index)`` is false (grabbed, not converted).  Ends where the
  stream ends, which is the true frame count."""
  cap = _open(path)
  try:
    index = 0
    while True:
      if wanted(index):
        ok, frame = cap.read()
        if not ok:
          return
        yield index, np.ascontiguousarray(frame[..., ::-1])
      else:
        if not cap.grab():
          return
        yield index, None
      index += 1
  finally:
    cap.release()


def write_video(path: str, frames: Iterator[np.ndarray], fps: float, size: tuple[int, int],
                video_format: str = "mp4") -> int:
  """Writes gray or RGB uint8 ``frames`` of ``size`` (width, height) as a video in
  ``video_format`` (``FORMATS``) at ``fps``, atomically (``atomic_files``); the
  number of frames."""
  extension, fourcc = FORMATS[video_format]
  count = 0

  def write(temporary):
    nonlocal count
    writer = cv2.VideoWriter(temporary, cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
      raise VideoError(f"{path}: OpenCV cannot write a {fourcc} video here")
    try:
      for frame in frames:
        if frame.shape[1::-1] != tuple(size):
          raise VideoError(f"{path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                           f"the video {size[0]}x{size[1]}")
        bgr = (cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2
               else np.ascontiguousarray(frame[..., ::-1]))
        writer.write(bgr)
        count += 1
    finally:
      writer.release()

  atomic_files.write_with(path, write, extension)
  return count
