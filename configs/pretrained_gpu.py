"""Stage 1 of the shipped model, one GPU: width 1/2, bfloat16, batch 64, ~3 min on an H200.

``launch/pretrain_gpu.sh`` runs it: 3,000 synthetic 384-px pairs (seed 2),
made and packed on every core, then this config.  The shipped stage 1 saw the
generator as of commit 175c595 (``git show 175c595:lineart_jax/data/synthetic.py``);
stage 2 is ``configs/pretrained_gpu_stage2.py``.
On a GPU the network is cheap, so the recipe spends it on width (twice the
CPU recipe's channels) and on samples (9,000 steps of 64: 8x the CPU recipe's),
all on the painted-art generator.

Measured (H200, jax 0.11.2): 9,000 steps in 163 s at a median 5,590 img/s, the
loader waiting 3 ms per step.  Whole-image F@2 / PSNR: red-panda-emotes 0.992 /
16.43 dB, the internal anime set 0.710 / 19.82 dB: better than the CPU recipe
(0.984 / 14.04 dB, 0.775 / 19.86 dB) on 14 of the 18 anime images, but flat gray
over black backgrounds and black clothing; stage 2 fixes that (0.984 / 15.74 dB,
0.814 / 20.45 dB), and ``lineart_jax.calibrate`` then lifts the output floor the
last layer was left with (0.982 / 19.14 dB, 0.816 / 19.57 dB); stage 3
(``configs/pretrained_gpu_stage3.py``) and the calibration make the shipped
model, scored in the README's table.

  bash launch/pretrain_gpu.sh data
  bash launch/pretrain_gpu.sh train runs/pretrained_gpu
"""

from lineart_jax.config_files import sibling

cpu_recipe = sibling(__file__, "pretrained")


def get_config():
  c = cpu_recipe.get_config()
  c.model.width = 0.5
  c.model.dtype = "bfloat16"    # compute; parameters stay float32
  c.global_batch = 64
  c.num_steps = 9000
  c.optimizer.learning_rate = 1e-3
  c.optimizer.warmup_steps = 300
  c.data.root = "data/gpu384_packed"
  c.data.workers = 6
  c.log_every = 100
  c.checkpoint_every = 1000
  c.eval_every = 0              # once, at the end
  return c
