"""Multi-process start-up: ``jax.distributed.initialize`` when the run spans processes.

Read from the environment (the launch scripts set it), before anything touches
devices:

* ``LINEART_COORDINATOR`` (host:port), ``LINEART_NUM_PROCESSES``,
  ``LINEART_PROCESS_ID``: explicit, used by ``launch/local.sh`` and any cluster;
* SLURM: ``SLURM_NTASKS`` > 1 is detected and JAX's own SLURM support resolves
  the coordinator and ids.

A single process needs none of it.  ``LINEART_CPU_COLLECTIVES=gloo`` (set by
the local launcher) makes CPU devices of different processes talk, so the
multi-process path is testable without GPUs.
"""

from __future__ import annotations

import os

from absl import logging


def initialize_from_env() -> bool:
  """Initializes jax.distributed if the environment describes several processes."""
  import jax
  coordinator = os.environ.get("LINEART_COORDINATOR")
  if os.environ.get("LINEART_CPU_COLLECTIVES"):
    jax.config.update("jax_cpu_collectives_implementation",
                      os.environ["LINEART_CPU_COLLECTIVES"])
  if coordinator:
    num = int(os.environ["LINEART_NUM_PROCESSES"])
    pid = int(os.environ["LINEART_PROCESS_ID"])
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num,
                               process_id=pid)
  elif int(os.environ.get("SLURM_NTASKS", "1")) > 1:
    jax.distributed.initialize()
  else:
    return False
  logging.info("process %d of %d (%d local devices, %d in all)", jax.process_index(),
               jax.process_count(), jax.local_device_count(), jax.device_count())
  return True
