"""About 6 minutes on 2 CPU cores: a narrow network on 64x64 crops, a faster lr.

Its final evaluation beats the OpenCV method on the synthetic validation split.

  python -m lineart_jax.train --config=configs/demo.py
"""

from lineart_jax.config_files import sibling

base = sibling(__file__, "base")


def get_config():
  c = base.get_config()
  c.num_steps = 2000
  c.global_batch = 8
  c.model.width = 0.125
  c.optimizer.learning_rate = 2e-3
  c.model.bn_momentum = 0.9     # running statistics settle within the short run
  c.data.crop = 64
  c.data.synthetic_size = 128
  c.data.val_count = 16
  c.checkpoint_every = 500
  c.eval_every = 1000
  c.eval_size = 128
  return c
