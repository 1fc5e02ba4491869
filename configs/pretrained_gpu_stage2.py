"""Stage 2 of the shipped model: fine-tuning the one-GPU recipe on black paint.

Starts from ``configs/pretrained_gpu.py`` (run in ``runs/pretrained_gpu``) and
trains on pairs with black and near-black paint (backgrounds, clothing, hair)
that is absent from the line art: the one-GPU model, which had seen flat black
only as ink, drew such areas as flat gray on real anime art.  400 steps of 12 at
float32: 8 minutes on 2 CPU cores, seconds on a GPU.

  git show 03453e8:lineart_jax/data/synthetic.py > lineart_jax/data/synthetic_stage2.py
  python -m lineart_jax.data.synthetic_stage2 data/syn384_v3 --count 2000 --size 384 --seed 3 \\
      --workers 2   # the generator as it was then; stage 3 follows
  python -m lineart_jax.data.prepare data/syn384_v3 --out data/syn384_v3_packed
  python -m lineart_jax.train --config=configs/pretrained_gpu_stage2.py \\
      --workdir=runs/pretrained_gpu_stage2
"""

from lineart_jax.config_files import sibling

stage1 = sibling(__file__, "pretrained_gpu")


def get_config():
  c = stage1.get_config()
  c.init_from = "runs/pretrained_gpu"
  c.model.dtype = "float32"     # as it ran, on CPU; bfloat16 on a GPU
  c.global_batch = 12
  c.num_steps = 400
  c.optimizer.learning_rate = 2e-4
  c.optimizer.warmup_steps = 40
  c.data.root = "data/syn384_v3_packed"
  c.data.workers = 2
  c.log_every = 50
  c.checkpoint_every = 200
  return c
