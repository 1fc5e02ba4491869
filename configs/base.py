"""The seed's recipe: full width, batch 15, 128x128 crops, Adam 2e-5, 250k steps.

Other configs import this one and change only what differs.  Any field can be
overridden on the command line, e.g. ``--config.data.root=/data/packed``.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_steps = 250_000
  c.global_batch = 15           # split over all devices of all processes

  c.model = ml_collections.ConfigDict()
  c.model.width = 1.0           # 1.0 = the seed's channel counts
  c.model.arch = "seed"         # "seed": the seed's layers; "skip": plus U-Net-style
                                # lateral connections at 1/4, 1/2 and full resolution
  c.model.edges = 0             # edge-map scales fed beside RGB (dilate - luma), 0 = off
  c.model.style_dims = 0        # 5: a line-style input (lineart_jax.style: weight, detail,
                                # tone, blacks) modulating every BatchNorm layer; 0 = off
  c.model.style_input = "film"  # how a style input enters: "film" (every BatchNorm layer)
                                # or "channels" (constant input channels; model card)
  c.model.dtype = "float32"     # compute dtype; parameters stay float32
  c.model.bn_momentum = 0.99

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.learning_rate = 2e-5
  c.optimizer.b1 = 0.9
  c.optimizer.b2 = 0.999
  c.optimizer.eps = 1e-8
  c.optimizer.schedule = "constant"  # or "warmup_cosine": linear warm-up, cosine to end_lr
  c.optimizer.warmup_steps = 0
  c.optimizer.end_learning_rate = 0.0

  c.loss = ml_collections.ConfigDict()  # Simo-Serra et al. 2016
  c.loss.alpha = 6.0
  c.loss.beta = -2.0
  c.loss.bins = 10
  c.loss.radius = 2
  c.loss.white = 0.95           # targets >= this are paper (weight 1); real line art's
                                # paper is 0.94-0.99, and 1.0 weighs it ~0.21
  c.loss.lattice = 0.0          # > 0: adds this multiple of the error's part locked to
                                # the pixel grid (losses.lattice_energy), whose dotted
                                # faint lines the strided decoder leaves; 0 = the paper's

  c.train_only = ""             # "" = every parameter; "style" = only the style layers
                                # (<bn>_style): the loaded network's weights and
                                # BatchNorm statistics stay fixed, so the default style
                                # computes exactly the model of init_from; "skips" =
                                # only the skip connections (model.arch="skip");
                                # "decoder" = the decoder's layers and the skips
                                # (model.DECODER_NAMES), the encoder fixed;
                                # "weights" = every parameter, BatchNorm
                                # statistics fixed
  c.init_from = ""              # "" = random init; "pretrained" = the shipped weights,
                                # or a workdir / checkpoint folder (params and BatchNorm)
                                # or a folder of weights in the shipped format
  c.init_style_layers = "load"  # "zero": init_from's style layers are left out and start
                                # at zero (its default style only), as the shipped
                                # model's style layers did; "load": continue them

  c.data = ml_collections.ConfigDict()
  c.data.root = ""              # "" = built-in synthetic illustrations; else packed
                                # folder (prepare), dataset root or manifest.tsv
  c.data.crop = 128
  c.data.flips = True
  c.data.hue = True
  c.data.min_scale = 1.0        # < 1: random down-scaling of the crop window
  c.data.max_scale = 1.0        # > 1: random up-scaling (thicker lines)
  c.data.workers = 2            # Grain worker processes (0 = in the main process)
  c.data.synthetic_size = 256   # side of a synthetic illustration
  c.data.val_count = 32         # pairs held out for evaluation

  c.log_every = 50              # steps between console/TensorBoard lines
  c.checkpoint_every = 1000
  c.keep_checkpoints = 3
  c.max_minutes = 0.0           # > 0: stop after this many minutes (with a checkpoint),
                                # e.g. for a time-boxed fine-tune; 0 = run num_steps
  c.resume_strict = False       # True: a damaged latest checkpoint is an error instead of
                                # a warning and a resume from the newest readable one
  c.eval_every = 5000           # 0 = only at the end
  c.eval_size = 256             # center crop of each validation pair
  return c
