"""The device mesh and how arrays are laid out on it.

Data parallelism with pmap semantics: a 1-D mesh whose single axis ``data`` spans
every device of every process.  The global batch is split along ``data`` (one
slice per device); parameters, BatchNorm statistics and optimizer state are
replicated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh(devices: list | None = None) -> Mesh:
  """1-D mesh over ``devices`` (default: all devices of all processes)."""
  devices = jax.devices() if devices is None else list(devices)
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def check_global_batch(global_batch: int, mesh: Mesh) -> int:
  """Returns the per-device batch; a clear error if the batch does not split evenly."""
  n = mesh.devices.size
  if global_batch < 1 or global_batch % n:
    raise ValueError(
        f"global batch size {global_batch} must be a positive multiple of the number "
        f"of devices ({n}); choose e.g. {max(n, global_batch // n * n)} or "
        f"{(global_batch // n + 1) * n}")
  if global_batch % jax.process_count():
    raise ValueError(f"global batch size {global_batch} is not divisible by the "
                     f"number of processes ({jax.process_count()})")
  return global_batch // n


def replicate(tree: Any, mesh: Mesh) -> Any:
  """Places a pytree, identical on every process, replicated over the mesh."""
  sharding = replicated(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_callback(np.shape(x), sharding,
                                             lambda idx: np.asarray(x)[idx]), tree)


def global_batch(local_batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
  """Assembles the global batch from each process's slice of it (process order)."""
  sharding = batch_sharded(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
          for k, v in local_batch.items()}
