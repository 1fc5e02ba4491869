#!/usr/bin/env bash
# The GPU throughput report on a lent GPU machine (see bench/gpu.py), in one call:
#   bash bench/gpu.sh            # writes $OUT/gpu_report.{md,json}
# The device image has jax, flax, optax, orbax and opencv but not grain,
# ml_collections or tensorboardX: they are installed from wheels carried in
# ./wheels (made here with: pip download -d wheels grain ml_collections tensorboardX
# tqdm --python-version 3.12 --only-binary=:all:), never downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d wheels ]; then
  pip install -q --no-index --find-links wheels grain ml_collections tensorboardX tqdm
fi
pip install -q --no-deps --no-build-isolation -e .
nvidia-smi || true
python bench/gpu.py --out "${OUT:-gpu_report}" "$@"
