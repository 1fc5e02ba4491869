#!/usr/bin/env bash
# The recipe's base stages (1 and 2) from this tree; launch/recipe.sh runs them and every later stage:
#
#   launch/pretrain.sh [RUNS] [--config.x=y ...]      # RUNS defaults to runs/recipe
#
# 1. stage 1: 3,000 synthetic 384-px pairs (seed 2), configs/pretrained_gpu.py from
#    scratch (as launch/pretrain_gpu.sh; a GPU: 163 s on one H200, about 16 h on 2 CPU cores);
# 2. stage 2: 2,000 pairs (seed 7; in 35 % of them the color image's lines are 0.4-1.2 px
#    wider than the line art's, as a colorization leaves a sketch's: --spread 0.35),
#    configs/pretrained_finetune.py from stage 1 (800 steps of 12, about 16 min on 2 CPU
#    cores); extra arguments go to this stage, e.g. --config.model.edges=2;
# 3. the calibration (lineart_jax.calibrate, 30 held-out synthetic pairs, seed 2027):
#    RUNS/shipped/lineart.{msgpack,json}, for --checkpoint= in infer and evaluate (copy it
#    into lineart_jax/pretrained/ to ship it).
#
# Every pair set comes from this tree's generator (lineart_jax/data/synthetic.py).  A
# step whose output exists is skipped and training resumes, so rerunning continues an
# interrupted recipe.  INIT=WEIGHTS skips stage 1 and starts stage 2 from WEIGHTS
# ('pretrained', a run or a shipped-format folder).  STYLES=1 draws stage 2's line art in
# a random line style per pair (synthetic --styles, into RUNS/data_stage2_styles) for a
# model with a style input; FRAMES=1 makes half of stage 2's pairs anime frames and draws
# contours=all in 40 % of the styled ones (--styles --frames 0.5 --contours 0.4, into
# RUNS/data_stage2_frames; configs/contours_finetune.py); FRAMES=traced draws those frames
# as traced cels (synthetic --traced, into RUNS/data_stage2_traced), FRAMES=light as traced
# cels with 60 % of their colored lines in a light shade of the fill (--light-traces 0.6,
# seed 17, into RUNS/data_stage2_light; model card), FRAMES=bright as those with half of
# their thin lines brighter than a dark fill (rim lights: --bright-traces 0.5, seed 17,
# into RUNS/data_stage2_bright), FRAMES=brighter with 80 % (--bright-traces 0.8, seed 19,
# into RUNS/data_stage2_brighter), FRAMES=bright8 as brighter on bright's seed 17 (into
# RUNS/data_stage2_bright8), FRAMES=bright2 as bright on brighter's seed 19 (into
# RUNS/data_stage2_bright2; brighter's control), FRAMES=soft as bright with 80 % of the
# traced frames softened instead of 35 % (--soft-frames 0.8, seed 17, into
# RUNS/data_stage2_soft); CONFIG=FILE replaces stage 2's config.  The shipped model's
# style layers (trained alone: calibrate keeps the calibration they were trained under):
#   INIT=pretrained STYLES=1 CONFIG=configs/style_finetune.py launch/pretrain.sh runs/style
# RUNS/shipped/lineart.json records this command (then the calibration it ran) and, in
# its notes, the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=runs/recipe
if [[ $# -gt 0 && $1 != --* ]]; then RUNS=$1; shift; fi
INIT=${INIT:-}
STYLES=${STYLES:-}
FRAMES=${FRAMES:-}
CONFIG=${CONFIG:-configs/pretrained_finetune.py}
command="launch/pretrain.sh $RUNS${*:+ $*}"
[[ $CONFIG != configs/pretrained_finetune.py ]] && command="CONFIG=$CONFIG $command"
[[ -n $STYLES ]] && command="STYLES=$STYLES $command"
[[ -n $FRAMES ]] && command="FRAMES=$FRAMES $command"
[[ -n $INIT ]] && command="INIT=$INIT $command"
WORKERS=${WORKERS:-$(nproc)}
mkdir -p "$RUNS"

pairs() {  # pairs OUT COUNT SEED [generator flags]: generate and pack, unless done
  local out=$1 count=$2 seed=$3
  shift 3
  if [[ ! -f ${out}_packed/index.json ]]; then
    python -m lineart_jax.data.synthetic "$out" --count "$count" --size 384 --seed "$seed" \
      --workers "$WORKERS" "$@"
    python -m lineart_jax.data.prepare "$out" --out "${out}_packed"
  fi
}

frames=(--spread 0.35 --styles --frames 0.5 --contours 0.4)  # every FRAMES kind's pairs
case $FRAMES in  # stage 2's pairs: their folder's suffix, seed and generator flags
  "") if [[ -n $STYLES ]]; then kind=_styles flags=(--spread 0.35 --styles)
      else kind="" flags=(--spread 0.35); fi
      seed2=7 ;;
  1) kind=_frames seed2=13 flags=("${frames[@]}") ;;
  traced) kind=_traced seed2=13 flags=("${frames[@]}" --traced) ;;
  light) kind=_light seed2=17 flags=("${frames[@]}" --traced --light-traces 0.6) ;;
  bright) kind=_bright seed2=17
    flags=("${frames[@]}" --traced --light-traces 0.6 --bright-traces 0.5) ;;
  brighter) kind=_brighter seed2=19
    flags=("${frames[@]}" --traced --light-traces 0.6 --bright-traces 0.8) ;;
  bright8) kind=_bright8 seed2=17
    flags=("${frames[@]}" --traced --light-traces 0.6 --bright-traces 0.8) ;;
  bright2) kind=_bright2 seed2=19
    flags=("${frames[@]}" --traced --light-traces 0.6 --bright-traces 0.5) ;;
  soft) kind=_soft seed2=17
    flags=("${frames[@]}" --traced --light-traces 0.6 --bright-traces 0.5 --soft-frames 0.8) ;;
  *) echo "FRAMES=$FRAMES: not one of 1, traced, light, bright, brighter, bright8," \
       "bright2, soft" >&2; exit 2 ;;
esac
if [[ -z $INIT ]]; then
  pairs "$RUNS/data_stage1" 3000 2
  python -m lineart_jax.train --config=configs/pretrained_gpu.py --workdir="$RUNS/stage1" \
    --config.data.root="$RUNS/data_stage1_packed"
  INIT=$RUNS/stage1
fi
DATA2=$RUNS/data_stage2$kind
pairs "$DATA2" 2000 "$seed2" "${flags[@]}"
python -m lineart_jax.train --config="$CONFIG" --workdir="$RUNS/stage2" \
  --config.init_from="$INIT" --config.data.root="${DATA2}_packed" "$@"
python -m lineart_jax.calibrate "$RUNS/stage2" --out "$RUNS/shipped" --data synthetic \
  --pairs 30 --size 384 --seed 2027 --command "$command" \
  --notes "launch/pretrain.sh at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "recipe done: $RUNS/shipped"
