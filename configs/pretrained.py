"""The CPU recipe (the previous shipped model): synthetic data only.

Width 1/4 (1.1 M parameters, 4.4 MB), 128x128 crops of 384-px synthetic
illustrations (randomly rescaled by 0.5-1.5 for thin and thick lines), Adam with warm-up and
cosine decay.  Stage 1; stage 2 is ``configs/pretrained_stage2.py``.  The shipped
model now comes from ``configs/pretrained_gpu.py`` and its stage 2.
Generate and pack the data first (see README, "The shipped model"; this
stage 1 saw the generator as of commit 77284ef, ``git show
77284ef:lineart_jax/data/synthetic.py``):

  python -m lineart_jax.data.synthetic data/syn384 --count 3200 --size 384 --workers 2
  python -m lineart_jax.data.prepare data/syn384 --out data/syn384_packed
  python -m lineart_jax.train --config=configs/pretrained.py --config.data.root=data/syn384_packed
"""

from lineart_jax.config_files import sibling

base = sibling(__file__, "base")


def get_config():
  c = base.get_config()
  c.num_steps = 6000
  c.global_batch = 12
  c.model.width = 0.25
  c.model.bn_momentum = 0.95
  c.optimizer.learning_rate = 1e-3
  c.optimizer.schedule = "warmup_cosine"
  c.optimizer.warmup_steps = 200
  c.optimizer.end_learning_rate = 1e-5
  c.data.root = "data/syn384_packed"
  c.data.min_scale = 0.5
  c.data.max_scale = 1.5
  c.data.val_count = 32
  c.log_every = 50
  c.checkpoint_every = 500
  c.eval_every = 1000
  c.eval_size = 256
  return c
