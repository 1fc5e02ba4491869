"""Dataset runs of ``infer`` (``dataset_plan``, ``dataset_run``): every file kept at
its relative path, collisions refused before any work, atomic writes, resume after
SIGKILL, shards that cover a run exactly once, videos in and out, the launchers."""

import os
import signal
import shutil
import socket
import subprocess
import sys
import time

import cv2
import jax
import numpy as np
import pytest

from lineart_jax import atomic_files, dataset_plan, infer, pretrained, video
from lineart_jax.api import LineArtExtractor
from lineart_jax.data import synthetic
from lineart_jax.data.imageio import read_color, read_line, write_png
from lineart_jax.model import AutoEncoder, ModelConfig, init_variables

from subprocess_env import REPO, cpu_env

WIDTH = 0.0625
H, W = 64, 96


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
  """Tiny seed-network weights in the shipped format, with real BatchNorm statistics."""
  import jax.numpy as jnp
  model = AutoEncoder(width=WIDTH)
  variables = jax.tree.map(np.asarray, init_variables(model, 0))
  x = jnp.asarray(synthetic.make_pair(0, 0, W)[0][None], jnp.float32) / 255.0
  _, stats = AutoEncoder(width=WIDTH, bn_momentum=0.0).apply(
      variables, x, train=True, mutable=["batch_stats"])
  folder = tmp_path_factory.mktemp("weights")
  pretrained.save(ModelConfig(WIDTH), {"params": variables["params"], **stats}, {"step": 1},
                  str(folder))
  return str(folder)


@pytest.fixture(scope="module")
def extractor(weights):
  return LineArtExtractor.load(weights)


def _image(seed: int) -> np.ndarray:
  return synthetic.make_pair(seed, 0, W)[0][:H, :W]


def _write_images(root, names, seed=0):
  for i, name in enumerate(names):
    write_png(str(root / name), _image(seed + i))


def _make_video(path, frames=12, fps=10.0, seed=3):
  """A short clip: a drawing panned a few pixels per frame."""
  big = synthetic.make_pair(seed, 0, 2 * W)[0]
  writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
  for i in range(frames):
    writer.write(np.ascontiguousarray(big[2 * i:2 * i + H, 3 * i:3 * i + W, ::-1]))
  writer.release()


def _decoded_frames(path):
  cap = cv2.VideoCapture(str(path))
  frames = []
  while True:
    ok, frame = cap.read()
    if not ok:
      break
    frames.append(np.ascontiguousarray(frame[..., ::-1]))
  cap.release()
  return frames


def _tree(root):
  """{relative path: bytes} of every file under ``root``."""
  out = {}
  for d, _, files in os.walk(root):
    for f in files:
      path = os.path.join(d, f)
      out[os.path.relpath(path, root)] = open(path, "rb").read()
  return out


def _infer(*args):
  return infer.main([str(a) for a in args])


def test_same_names_in_different_folders_give_outputs_at_their_relative_paths(
    weights, extractor, tmp_path):
  src = tmp_path / "frames"
  for d in ("ep1", "ep2", "ep2/extra"):
    (src / d).mkdir(parents=True)
  _write_images(src, ["ep1/0001.jpg", "ep2/0001.jpg", "ep2/extra/0001.png", "0001.png"])
  assert _infer(src, "--checkpoint", weights, "--out", tmp_path / "lines") == 0
  got = {k for k in _tree(tmp_path / "lines")}
  assert got == {"ep1/0001_lineart.png", "ep2/0001_lineart.png", "ep2/extra/0001_lineart.png",
                 "0001_lineart.png"}
  for rel in ("ep1/0001.jpg", "ep2/0001.jpg", "ep2/extra/0001.png", "0001.png"):
    out = tmp_path / "lines" / (os.path.splitext(rel)[0] + "_lineart.png")
    want = extractor(str(src / rel), dtype="uint8")
    assert np.array_equal(read_line(str(out)), want), rel
  # same-sized images sharing device calls (3 tiles a call) give the same line art
  assert _infer(src, "--checkpoint", weights, "--out", tmp_path / "batched", "--batch", "3",
                "--io-threads", "1") == 0
  batched = _tree(tmp_path / "batched")
  assert set(batched) == got
  for rel in got:
    a, b = (read_line(str(tmp_path / d / rel)).astype(int) for d in ("lines", "batched"))
    assert np.abs(a - b).max() <= 1, rel
  # a glob's outputs are relative to its fixed part
  assert _infer(f"{src}/**/0001.jpg", "--checkpoint", weights, "--out", tmp_path / "g") == 0
  assert set(_tree(tmp_path / "g")) == {"ep1/0001_lineart.png", "ep2/0001_lineart.png"}


def test_a_collision_is_refused_with_both_names_before_any_work(weights, tmp_path, capsys):
  for d in ("a", "b", "c"):
    (tmp_path / d).mkdir()
  _write_images(tmp_path, ["a/0001.jpg", "b/0001.jpg", "a/0002.png", "c/x.png", "c/x.jpg"])
  capsys.readouterr()
  # two folders given side by side: their top-level files meet in --out
  rc = _infer(tmp_path / "a", tmp_path / "b", "--checkpoint", weights, "--out", tmp_path / "o")
  err = capsys.readouterr().err
  assert rc == 2
  assert f"{tmp_path / 'a' / '0001.jpg'} and {tmp_path / 'b' / '0001.jpg'}" in err
  assert str(tmp_path / "o" / "0001_lineart.png") in err and "0002" not in err
  assert "refused before any work" in err and "model:" not in err  # no model loaded
  assert not (tmp_path / "o").exists()  # nothing written, not even the folder
  # one stem, two extensions, beside the inputs: refused, the other outputs not written
  assert _infer(tmp_path / "c", tmp_path / "a", "--checkpoint", weights) == 2
  assert f"{tmp_path / 'c' / 'x.jpg'} and {tmp_path / 'c' / 'x.png'}" in capsys.readouterr().err
  assert not list(tmp_path.glob("*/*_lineart.png"))


def test_sigkill_mid_run_then_the_same_command_finishes_without_recomputing(
    weights, tmp_path):
  """The run's 5th input is a FIFO nobody writes to, so the run finishes the four
  before it and waits there: it is killed at that point (no timing involved),
  the FIFO is replaced by an image, and the same command is run again."""
  src = tmp_path / "in"
  (src / "d").mkdir(parents=True)
  names = [f"d/{i:04d}.png" for i in range(8)]
  _write_images(src, [n for n in names if n != "d/0004.png"])
  os.mkfifo(src / "d" / "0004.png")
  out = tmp_path / "out"
  command = [sys.executable, "-m", "lineart_jax.infer", str(src), "--checkpoint", weights,
             "--out", str(out)]
  first = [out / "d" / f"{i:04d}_lineart.png" for i in range(4)]
  p = subprocess.Popen(command, cwd=REPO, env=cpu_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
  try:
    deadline = time.monotonic() + 300
    while not all(atomic_files.is_whole_png(str(f)) for f in first):
      assert p.poll() is None, p.stdout.read().decode()[-3000:]
      assert time.monotonic() < deadline, "the first four outputs never appeared"
      time.sleep(0.2)
  finally:
    p.send_signal(signal.SIGKILL)
    p.wait()
  assert p.returncode == -signal.SIGKILL
  assert not (out / "d" / "0004_lineart.png").exists()
  # the state a kill can leave: a temporary file of the dead writer, and (from a
  # writer that was not atomic) a truncated PNG under a final name
  dead = subprocess.Popen(["true"])
  dead.wait()
  stale = out / "d" / f".0006_lineart.png.{atomic_files.HOST}.{dead.pid}.tmp"
  stale.write_bytes(b"\x89PNG\r\n\x1a\n partial")
  (out / "d" / "0007_lineart.png").write_bytes(open(first[0], "rb").read()[:100])
  kept = {f: (os.stat(f).st_ino, os.stat(f).st_mtime_ns) for f in first}
  os.remove(src / "d" / "0004.png")
  write_png(str(src / "d" / "0004.png"), _image(99))

  rerun = subprocess.run(command, cwd=REPO, env=cpu_env(), capture_output=True, text=True,
                         timeout=300)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert "resume: 4 of 8 outputs exist and are whole, skipped" in rerun.stderr
  assert "4 images" in rerun.stdout  # computed: only the four not finished
  assert {f: (os.stat(f).st_ino, os.stat(f).st_mtime_ns) for f in first} == kept
  assert not stale.exists()
  # equal to an uninterrupted run of the same command
  assert _infer(src, "--checkpoint", weights, "--out", tmp_path / "ref") == 0
  got, want = _tree(out), _tree(tmp_path / "ref")
  assert sorted(got) == sorted(want) == [f"d/{i:04d}_lineart.png" for i in range(8)]
  for name in want:
    a, b = (read_line(str(root / name)) for root in (out, tmp_path / "ref"))
    assert np.array_equal(a, b), name
  assert _infer(src, "--checkpoint", weights, "--out", out, "--overwrite") == 0
  assert all(os.stat(f).st_ino != kept[f][0] for f in first)  # --overwrite rewrote them


def test_two_shards_write_exactly_the_outputs_of_one_run(weights, tmp_path, capsys):
  src = tmp_path / "in"
  (src / "a").mkdir(parents=True)
  (src / "b").mkdir()
  _write_images(src, [f"{d}/{i:04d}.png" for d in "ab" for i in range(5)])
  _make_video(src / "b" / "clip.mp4", frames=12)
  common = ["--checkpoint", weights, "--frames"]
  assert _infer(src, *common, "--out", tmp_path / "all") == 0
  whole = _tree(tmp_path / "all")
  assert len(whole) == 10 + 12
  parts, counts = [], []
  for k in (0, 1):
    capsys.readouterr()
    assert _infer(src, *common, "--shard", f"{k}/2", "--out", tmp_path / f"s{k}") == 0
    parts.append(_tree(tmp_path / f"s{k}"))
    counts.append(int(capsys.readouterr().out.split(" images")[0]))
  assert parts[0] and parts[1] and not set(parts[0]) & set(parts[1])  # no file written twice
  assert counts == [len(parts[0]), len(parts[1])]  # each computed once
  assert {**parts[0], **parts[1]} == whole
  # the same files listed in another order fall in the same shards
  files = sorted(str(p) for p in src.glob("a/*.png"))
  shards = [{j.source.path for j in dataset_plan.make_plan(order, shard=(0, 2)).jobs}
            for order in (files, files[::-1])]
  assert shards[0] == shards[1] and 0 < len(shards[0]) < len(files)
  # into one folder, one after the other, a line-art video: the shard that ends
  # last writes it from both shards' frames
  for k in (0, 1):
    assert _infer(src, "--checkpoint", weights, "--shard", f"{k}/2", "--out", tmp_path / "v"
                  ) == 0
    assert os.path.isfile(tmp_path / "v" / "b" / "clip_lineart.mp4") == (k == 1)
  assert not (tmp_path / "v" / "b" / "clip_lineart.frames").exists()
  assert len(_decoded_frames(tmp_path / "v" / "b" / "clip_lineart.mp4")) == 12


def test_a_video_gives_a_line_art_video_of_its_count_size_and_rate(
    weights, extractor, tmp_path, capsys):
  clip = tmp_path / "clip.mp4"
  _make_video(clip, frames=12, fps=10.0)
  source_frames = _decoded_frames(clip)
  assert len(source_frames) == 12
  want = extractor(source_frames, dtype="uint8")  # the network on the extracted frames

  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "v") == 0
  out = tmp_path / "v" / "clip_lineart.mp4"
  info = video.probe(str(out))
  assert (info.frames, info.width, info.height, info.fps) == (12, W, H, 10.0)
  got = [f[..., 0] for f in _decoded_frames(out)]
  assert len(got) == 12
  for g, w in zip(got, want):  # MPEG-4 part 2 is lossy (measured: 3.6 levels off on average)
    diff = np.abs(g.astype(int) - w)
    assert diff.mean() < 6 and np.percentile(diff, 99) < 32, (diff.mean(), diff.max())
  assert os.listdir(tmp_path / "v") == ["clip_lineart.mp4"]  # the work folder is gone
  # lossless: the frames exactly
  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "v", "--video-format",
                "mkv") == 0
  lossless = tmp_path / "v" / "clip_lineart.mkv"
  assert video.probe(str(lossless)).fps == 10.0
  assert np.array_equal(np.stack([f[..., 0] for f in _decoded_frames(lossless)]), want)

  # --frames: numbered PNGs, equal to the network on the extracted frames
  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "f", "--frames") == 0
  frames = sorted(os.listdir(tmp_path / "f" / "clip_lineart"))
  assert frames == [f"{i:06d}.png" for i in range(12)]
  for i, name in enumerate(frames):
    assert np.array_equal(read_line(str(tmp_path / "f" / "clip_lineart" / name)), want[i])
  # resumable by frame index: two frames lost, the same command computes those two
  kept = os.stat(tmp_path / "f" / "clip_lineart" / "000000.png").st_ino
  for i in (3, 7):
    os.remove(tmp_path / "f" / "clip_lineart" / f"{i:06d}.png")
  capsys.readouterr()
  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "f", "--frames") == 0
  captured = capsys.readouterr()
  assert "resume: 10 of 12 outputs exist" in captured.err and captured.out.startswith("2 images")
  assert os.stat(tmp_path / "f" / "clip_lineart" / "000000.png").st_ino == kept
  for i in (3, 7):
    assert np.array_equal(read_line(str(tmp_path / "f" / "clip_lineart" / f"{i:06d}.png")),
                          want[i])

  # --every 5: frames 0, 5, 10; the video at a fifth of the rate
  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "e", "--frames", "--every",
                "5") == 0
  assert sorted(os.listdir(tmp_path / "e" / "clip_lineart")) == [
      "000000.png", "000005.png", "000010.png"]
  assert _infer(clip, "--checkpoint", weights, "--out", tmp_path / "e", "--every", "5") == 0
  info = video.probe(str(tmp_path / "e" / "clip_lineart.mp4"))
  assert (info.frames, info.fps) == (3, 2.0)


def test_bad_inputs_are_listed_with_the_reason_and_the_rest_is_kept(weights, tmp_path, capsys):
  src = tmp_path / "in"
  src.mkdir()
  _write_images(src, ["a.png", "c.png"])
  (src / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
  (src / "broken.mp4").write_bytes(os.urandom(2000))
  out = tmp_path / "out"
  assert _infer(src, "--checkpoint", weights, "--out", out) == 1
  assert sorted(_tree(out)) == ["a_lineart.png", "c_lineart.png", "lineart_failures.tsv"]
  rows = [r.split("\t") for r in (out / "lineart_failures.tsv").read_text().splitlines()]
  assert rows[0] == ["input", "reason"]
  assert {r[0] for r in rows[1:]} == {str(src / "b.png"), str(src / "broken.mp4")}
  assert all(r[1] for r in rows[1:])
  assert "listed in" in capsys.readouterr().out
  # fixed, then rerun: only the failed input is computed, and the list goes away
  write_png(str(src / "b.png"), _image(5))
  os.remove(src / "broken.mp4")
  assert _infer(src, "--checkpoint", weights, "--out", out) == 0
  assert "1 images" in capsys.readouterr().out
  assert sorted(_tree(out)) == ["a_lineart.png", "b_lineart.png", "c_lineart.png"]


def test_writes_are_atomic_and_only_dead_writers_temporaries_are_removed(tmp_path):
  path = tmp_path / "x.png"
  atomic_files.write_png(str(path), np.full((8, 8), 200, np.uint8))
  before = path.read_bytes()

  def crash(temporary):
    with open(temporary, "wb") as f:
      f.write(b"\x89PNG half")
    raise OSError("disk full")

  with pytest.raises(OSError):
    atomic_files.write_with(str(path), crash)
  assert path.read_bytes() == before and os.listdir(tmp_path) == ["x.png"]
  assert atomic_files.is_whole_png(str(path))
  (tmp_path / "cut.png").write_bytes(before[:-5])
  assert not atomic_files.is_whole_png(str(tmp_path / "cut.png"))
  dead = subprocess.Popen(["true"])
  dead.wait()
  names = {"dead": f".x.png.{atomic_files.HOST}.{dead.pid}.tmp",
           "live": f".x.png.{atomic_files.HOST}.{os.getppid()}.tmp",
           "other host": f".x.png.{atomic_files.HOST}x.{dead.pid}.tmp"}
  for name in names.values():
    (tmp_path / name).write_bytes(b"")
  assert atomic_files.remove_stale_temporaries([str(tmp_path)]) == 1
  assert not (tmp_path / names["dead"]).exists()
  assert (tmp_path / names["live"]).exists() and (tmp_path / names["other host"]).exists()
  assert socket.gethostname()  # HOST is derived from it


def test_shard_argument_and_assignment():
  assert dataset_plan.parse_shard("3/8") == (3, 8)
  for bad in ("8/8", "-1/2", "1", "a/b"):
    with pytest.raises(ValueError, match="--shard"):
      dataset_plan.parse_shard(bad)
  keys = [f"ep{e}/{i:05d}.jpg" for e in range(3) for i in range(400)]
  owners = [[k for k in keys if dataset_plan.in_shard(k, (s, 4))] for s in range(4)]
  assert sorted(sum(owners, [])) == sorted(keys)  # each key in exactly one shard
  assert all(200 < len(o) < 400 for o in owners)  # and the shares are even


LAUNCHERS = ["launch/infer_gpus.sh", "launch/infer_array.sbatch"]


@pytest.mark.parametrize("script", LAUNCHERS)
def test_launchers_pass_shellcheck(script):
  shellcheck = shutil.which("shellcheck") or os.path.join(os.path.dirname(sys.executable),
                                                           "shellcheck")
  p = subprocess.run([shellcheck, os.path.join(REPO, script)], capture_output=True, text=True)
  assert p.returncode == 0, p.stdout + p.stderr


def test_launchers_cover_a_folder_once(tmp_path):
  """Both launchers run here with the OpenCV method (no model to compile): the
  one-process-per-GPU script with LINEART_GPUS=2, and the SLURM array script as
  tasks 0 and 1 of an array 0-1 (its #SBATCH lines are comments to bash)."""
  src = tmp_path / "in"
  (src / "x").mkdir(parents=True)
  _write_images(src, [f"x/{i}.png" for i in range(6)] + ["0.png"])
  want = sorted(f"x/{i}_lineart.png" for i in range(6)) + ["0_lineart.png"]
  p = subprocess.run(["bash", "launch/infer_gpus.sh", str(src), f"--out={tmp_path / 'g'}",
                      "--method=opencv"], cwd=REPO, capture_output=True, text=True, timeout=300,
                     env=cpu_env(LINEART_GPUS="2", LINEART_LAUNCH_LOGS=str(tmp_path / "logs")))
  assert p.returncode == 0, p.stdout + p.stderr
  assert "shard 0/2 (exit 0)" in p.stdout and "shard 1/2 (exit 0)" in p.stdout
  assert sorted(_tree(tmp_path / "g")) == sorted(want)
  for k in (0, 1):
    p = subprocess.run(["bash", "launch/infer_array.sbatch", str(src), f"--out={tmp_path / 'a'}",
                        "--method=opencv"], cwd=REPO, capture_output=True, text=True,
                       timeout=300, env=cpu_env(SLURM_ARRAY_TASK_ID=str(k),
                                                SLURM_ARRAY_TASK_MAX="1"))
    assert p.returncode == 0, p.stderr
  assert _tree(tmp_path / "a") == _tree(tmp_path / "g")
  p = subprocess.run(["bash", "launch/infer_array.sbatch", str(src)], cwd=REPO,
                     capture_output=True, text=True, env=cpu_env())
  assert p.returncode == 2 and "sbatch --array" in p.stderr
