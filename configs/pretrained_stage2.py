"""Stage 2 of the CPU recipe (the previous shipped model): fine-tuning on painted art.

Starts from stage 1 (``configs/pretrained.py``, run in ``runs/pretrained``) and
trains on pairs whose fills are painted like a colorist's or a colorization
network's (bled across boundaries, textured, lines laid on top in Multiply mode
or faint), denser line work (frills, more small shapes) and dark areas with
lines inside: what real anime illustrations have and stage 1's data lacked.

  python -m lineart_jax.data.synthetic data/syn384_v2 --count 3200 --size 384 --seed 1 --workers 2
  python -m lineart_jax.data.prepare data/syn384_v2 --out data/syn384_v2_packed
  python -m lineart_jax.train --config=configs/pretrained_stage2.py --workdir=runs/pretrained_stage2
"""

from lineart_jax.config_files import sibling

stage1 = sibling(__file__, "pretrained")


def get_config():
  c = stage1.get_config()
  c.init_from = "runs/pretrained"
  c.num_steps = 1000
  c.optimizer.learning_rate = 5e-4
  c.optimizer.warmup_steps = 100
  c.data.root = "data/syn384_v2_packed"
  return c
