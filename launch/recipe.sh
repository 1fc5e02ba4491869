#!/usr/bin/env bash
# The shipped model (lineart_jax/pretrained) from this tree, every stage, in one command:
#
#   launch/recipe.sh [RUNS]          # RUNS defaults to runs/recipe
#
# Each stage starts from the one before it (INIT=RUNS/STAGE/shipped) and ends in its
# own calibrated RUNS/STAGE/shipped; a finished stage is skipped and an interrupted
# one resumes, so rerunning continues the recipe.  The stages (docs/model_card.md):
#   base      launch/pretrain.sh: stage 1 from scratch (a GPU: 163 s on one H200,
#             about 16 h on 2 CPU cores), stage 2 (16 min), calibration
#   style     the line-style layers alone (STYLES=1, configs/style_finetune.py)
#   contours  every layer, with the contours control (FRAMES=1, configs/contours_finetune.py)
#   traced    traced cels, two seeds averaged (launch/soup.sh, FRAMES=traced)
#   bright    light and bright trace lines, two seeds averaged (FRAMES=bright)
#   skips     the skip connections alone, two seeds averaged (FRAMES=bright2,
#             configs/skips_finetune.py)
# After stage 1, about 3.5 hours on 2 CPU cores.  RUNS/skips/shipped is the model:
# copy its lineart.* into lineart_jax/pretrained/ to ship it.  Every pair set comes
# from this tree's generator, which differs in places from the ones the shipped
# weights saw (model card, "How the shipped weights were made").
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/recipe}
INIT=""

stage() {  # stage NAME SCRIPT STYLES FRAMES CONFIG: one stage from INIT, unless done
  local name=$1 script=$2
  if [[ ! -f $RUNS/$name/shipped/lineart.json ]]; then
    echo "recipe: stage $name${INIT:+ from $INIT}" >&2
    INIT=$INIT STYLES=$3 FRAMES=$4 CONFIG=$5 "$script" "$RUNS/$name"
  fi
  INIT=$RUNS/$name/shipped
}

stage base launch/pretrain.sh "" "" configs/pretrained_finetune.py
stage style launch/pretrain.sh 1 "" configs/style_finetune.py
stage contours launch/pretrain.sh "" 1 configs/contours_finetune.py
stage traced launch/soup.sh "" traced configs/traced_finetune.py
stage bright launch/soup.sh "" bright configs/traced_finetune.py
stage skips launch/soup.sh "" bright2 configs/skips_finetune.py
echo "recipe done: $INIT"
