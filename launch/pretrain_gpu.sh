#!/usr/bin/env bash
# The shipped model's recipe on one GPU (configs/pretrained_gpu.py), in two steps:
#
#   launch/pretrain_gpu.sh data                      # synthetic pairs, packed, on every core
#   launch/pretrain_gpu.sh train WORKDIR [--config.x=y ...]
#
# `train` trains, then writes WORKDIR/shipped/lineart.{msgpack,json}: infer,
# evaluate and init_from take that folder (copy it into lineart_jax/pretrained/
# to ship it).  DATA (default data/gpu384), COUNT (3000), SEED (2) and SIZE (384)
# choose the data; the figures in configs/pretrained_gpu.py used the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-data/gpu384}
COUNT=${COUNT:-3000}
SEED=${SEED:-2}
SIZE=${SIZE:-384}

case "${1:-}" in
  data)
    python -m lineart_jax.data.synthetic "$DATA" --count "$COUNT" --size "$SIZE" --seed "$SEED" \
      --workers "$(nproc)"
    python -m lineart_jax.data.prepare "$DATA" --out "${DATA}_packed"
    ;;
  train)
    [[ $# -ge 2 ]] || { echo "usage: $0 train WORKDIR [--config.x=y ...]" >&2; exit 2; }
    workdir=$2
    shift 2
    python -m lineart_jax.train --config=configs/pretrained_gpu.py --workdir="$workdir" \
      --config.data.root="${DATA}_packed" "$@"
    python -m lineart_jax.pretrained "$workdir" --out "$workdir/shipped" --command \
      "DATA=$DATA COUNT=$COUNT SEED=$SEED SIZE=$SIZE launch/pretrain_gpu.sh data && launch/pretrain_gpu.sh train $workdir $*"
    ;;
  *)
    echo "usage: $0 data | train WORKDIR [--config.x=y ...]" >&2
    exit 2
    ;;
esac
