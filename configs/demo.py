"""A few minutes on 2 CPU cores: a narrow network on 64x64 crops, a faster lr.

  python -m lineart_jax.train --config=configs/demo.py
"""

from configs import base


def get_config():
  c = base.get_config()
  c.num_steps = 600
  c.global_batch = 8
  c.model.width = 0.125
  c.optimizer.learning_rate = 2e-3
  c.model.bn_momentum = 0.9     # running statistics settle within the short run
  c.data.crop = 64
  c.data.synthetic_size = 192
  c.data.val_count = 16
  c.log_every = 25
  c.checkpoint_every = 200
  c.eval_every = 300
  c.eval_size = 192
  return c
