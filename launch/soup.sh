#!/usr/bin/env bash
# A recipe's stage in two seeds, averaged (a model soup), then calibrated:
#
#   [INIT=... FRAMES=... CONFIG=...] launch/soup.sh RUNS [--config.x=y ...]
#
# runs launch/pretrain.sh RUNS/seed0 and RUNS/seed1 (--config.seed=0 and 1; the
# same pairs, generated once; the environment and extra arguments go to both),
# then writes the average of their stage 2 (python -m lineart_jax.pretrained) and
# calibrates it as pretrain.sh does: RUNS/shipped/lineart.{msgpack,json} (copy it
# into lineart_jax/pretrained/ to ship it).  Reruns resume, as pretrain.sh's do.
# The shipped model's last three stages (docs/model_card.md), in this order:
#   INIT=pretrained FRAMES=traced CONFIG=configs/traced_finetune.py launch/soup.sh runs/traced
#   INIT=pretrained FRAMES=bright CONFIG=configs/traced_finetune.py launch/soup.sh runs/bright
#   INIT=pretrained FRAMES=bright2 CONFIG=configs/skips_finetune.py launch/soup.sh runs/skips
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 || $1 == --* ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
RUNS=$1
shift
command="launch/soup.sh $RUNS${*:+ $*}"
[[ -n ${CONFIG:-} ]] && command="CONFIG=$CONFIG $command"
[[ -n ${FRAMES:-} ]] && command="FRAMES=$FRAMES $command"
[[ -n ${INIT:-} ]] && command="INIT=$INIT $command"
mkdir -p "$RUNS/seed1"
for seed in 0 1; do
  if [[ $seed == 1 ]]; then  # the same pairs as seed 0's
    shopt -s nullglob  # (a glob that matches nothing shares nothing)
    for data in "$RUNS"/seed0/data_stage2*_packed; do
      [[ -e $RUNS/seed1/$(basename "$data") ]] || ln -s "../seed0/$(basename "$data")" "$RUNS/seed1/"
    done
  fi
  launch/pretrain.sh "$RUNS/seed$seed" "$@" --config.seed=$seed
done
if [[ ! -f $RUNS/soup/lineart.msgpack ]]; then
  python -m lineart_jax.pretrained "$RUNS/seed0/stage2" "$RUNS/seed1/stage2" --out "$RUNS/soup"
fi
python -m lineart_jax.calibrate "$RUNS/soup" --out "$RUNS/shipped" --data synthetic \
  --pairs 30 --size 384 --seed 2027 --command "$command" \
  --notes "launch/soup.sh at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "soup done: $RUNS/shipped"
