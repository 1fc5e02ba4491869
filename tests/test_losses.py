import numpy as np
import pytest

from lineart_jax.losses import lattice_energy, loss_map, per_image_loss


def slow_loss_map(target, alpha=6.0, beta=-2.0, bins=10, radius=2, white=0.95):
  """The paper's map, pixel by pixel, as DIGEST.md states it."""
  h, w = target.shape
  out = np.ones((h, w), np.float64)
  bin_of = lambda v: min(int(np.floor(v * bins)), bins - 1)
  for u in range(h):
    for v in range(w):
      if target[u, v] >= white:
        continue
      own, same, total = bin_of(target[u, v]), 0, 0
      for uu in range(max(0, u - radius), min(h, u + radius + 1)):
        for vv in range(max(0, v - radius), min(w, v + radius + 1)):
          total += 1
          same += bin_of(target[uu, vv]) == own
      out[u, v] = min(alpha * np.exp(-same / total) + beta, 1.0)
  return out


def _line_image(rng, h=24, w=31):
  img = np.ones((h, w), np.float32)
  img[5, 2:25] = 0.0                      # thin line
  img[:, 17] = 0.3                        # gray vertical line to the border
  img[12:22, 3:12] = 0.05                 # solid dark blob
  img[0:3, 26:] = rng.uniform(0, 1, (3, w - 26))  # noise in a corner
  return img


@pytest.mark.parametrize("white", [0.95, 1.0])
@pytest.mark.parametrize("case", ["random", "lines", "white", "black", "tiny", "levels"])
def test_loss_map_matches_slow_reference(case, white):
  rng = np.random.default_rng(0)
  target = {
      "random": lambda: rng.uniform(0, 1, (19, 23)).astype(np.float32),
      "lines": lambda: _line_image(rng),
      "white": lambda: np.ones((9, 11), np.float32),
      "black": lambda: np.zeros((9, 11), np.float32),
      "tiny": lambda: rng.uniform(0, 1, (2, 3)).astype(np.float32),
      "levels": lambda: (rng.integers(0, 256, (16, 16)) / 255).astype(np.float32),
  }[case]()
  got = np.asarray(loss_map(target[None, :, :, None], white=white))[0, :, :, 0]
  np.testing.assert_allclose(got, slow_loss_map(target, white=white), atol=1e-6, rtol=0)


def test_off_white_paper_weighs_one():
  """Real paper (0.97 here) is paper at the default threshold, not a dark area."""
  target = np.full((1, 16, 16, 1), 0.97, np.float32)
  target[0, 8, 2:14] = 0.1  # one line
  weights = np.asarray(loss_map(target, white=0.95))
  assert np.all(weights[target >= 0.95] == 1.0)
  assert np.all(weights[0, 8, 2:14] == 1.0)  # a thin line keeps weight 1 too
  exact = np.asarray(loss_map(target, white=1.0))  # the old rule: paper weighs ~0.21
  np.testing.assert_allclose(exact[0, 0, 0], 6 * np.exp(-1) - 2, atol=1e-6)


def test_loss_map_values_at_extremes():
  white = np.asarray(loss_map(np.ones((1, 8, 8, 1), np.float32)))
  black = np.asarray(loss_map(np.zeros((1, 8, 8, 1), np.float32)))
  assert np.all(white == 1.0)
  np.testing.assert_allclose(black, 6 * np.exp(-1) - 2, atol=1e-6)  # a uniform dark area


def test_per_image_loss_is_weighted_sum_of_squares():
  rng = np.random.default_rng(1)
  target = rng.uniform(0, 1, (3, 8, 8, 1)).astype(np.float32)
  output = rng.uniform(0, 1, (3, 8, 8, 1)).astype(np.float32)
  weights = np.asarray(loss_map(target))
  want = ((weights * (output - target)) ** 2).sum(axis=(1, 2, 3))
  np.testing.assert_allclose(per_image_loss(output, target), want, rtol=1e-5)


def test_lattice_energy_finds_dots_on_the_grid_and_little_else():
  """Dots every 4 px on the grid are nearly all lattice, at any phase; the same
  number of dots at random places, and any error of a constant, hardly count."""
  rng = np.random.default_rng(2)
  target = np.ones((1, 128, 128, 1), np.float32)
  dots = target.copy()
  dots[:, 1::4, 2::4] = 0.5  # one of the 16 phases, in every window
  energy = float(lattice_energy(dots, target)[0])
  squared = float(((dots - target) ** 2).sum())
  np.testing.assert_allclose(energy, squared * 15 / 16, rtol=1e-5)  # less the mean
  np.testing.assert_allclose(lattice_energy(np.roll(dots, 3, axis=2), target), energy, rtol=1e-5)
  scattered = target.copy()
  scattered.reshape(-1)[rng.choice(target.size, int((dots < 1).sum()), replace=False)] = 0.5
  assert float(lattice_energy(scattered, target)[0]) < 0.05 * squared
  assert float(lattice_energy(target - 0.3, target)[0]) < 1e-6
  assert float(lattice_energy(dots, dots)[0]) == 0.0


def test_lattice_energy_per_image_and_partial_windows():
  """One value per image; pixels outside whole windows are left out; images
  smaller than a window have none."""
  target = np.ones((2, 70, 140, 1), np.float32)
  output = target.copy()
  output[0, 0:64:4, 0:128:4] = 0.0  # image 0 only, inside the whole windows
  output[1, 64:, :] = 0.0           # image 1 only, outside them
  energy = np.asarray(lattice_energy(output, target))
  assert energy.shape == (2,) and energy[0] > 0 and energy[1] == 0
  assert np.asarray(lattice_energy(output[:, :32, :32], target[:, :32, :32])).tolist() == [0, 0]
  with pytest.raises(ValueError, match="multiple"):
    lattice_energy(output, target, period=4, window=30)
