"""GPU throughput: bfloat16 compute, a large batch, more loader workers.

Set ``--config.data.root`` to a packed dataset: the synthetic generator draws
~5-30 pairs/s per worker (384-128 px), far below what a GPU consumes.
"""

from lineart_jax.config_files import sibling

base = sibling(__file__, "base")


def get_config():
  c = base.get_config()
  c.model.dtype = "bfloat16"
  c.global_batch = 240
  c.data.workers = 8
  c.log_every = 100
  return c
