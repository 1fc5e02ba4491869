#!/usr/bin/env bash
# The GPU throughput report on a lent GPU machine (see bench/gpu.py), in one call:
#   bash bench/gpu.sh [--data PACKED] [--extra 0.5x64]   # writes $OUT/gpu_report.{md,json}
# The device image has jax, flax, optax, orbax and opencv but not grain,
# ml_collections or tensorboardX: they are installed from wheels carried in
# $WHEELS (default ./wheels), never downloaded at run time.  Make them here with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d wheels \
#     grain==0.2.18 array_record==0.8.6 portpicker ml_collections==1.1.0 tensorboardX==2.6.5
# (the set that ran on an H200 with jax 0.11.2).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-wheels}
if [ -d "$WHEELS" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --upgrade \
    --target /tmp/lineart_site "$WHEELS"/*.whl
  export PYTHONPATH=/tmp/lineart_site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi || true
python3 bench/gpu.py --out "${OUT:-gpu_report}" "$@"
