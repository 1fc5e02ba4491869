#!/usr/bin/env bash
# One host, all its GPUs: a single process drives every local GPU (JAX's usual
# layout); the global batch is split over them on the mesh axis 'data'.
#
#   launch/multi_gpu.sh [--config=configs/throughput.py] [--workdir=DIR] [--config.x=y ...]
#
# Choose GPUs with CUDA_VISIBLE_DEVICES.  The global batch must be a multiple of
# the GPU count.
set -euo pipefail

# Let XLA take most of each GPU's memory up front (JAX's default is 75%).
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}

has_config=false
for arg in "$@"; do
  [[ $arg == --config=* ]] && has_config=true
done
if [[ $has_config == true ]]; then
  exec python -m lineart_jax.train "$@"
fi
exec python -m lineart_jax.train --config=configs/throughput.py "$@"
