#!/usr/bin/env bash
# Start NUM_PROCESSES training processes on this machine, wired together with
# jax.distributed exactly as a cluster's hosts are (coordinator on 127.0.0.1).
#
#   launch/local.sh NUM_PROCESSES --config=configs/demo.py [--workdir=DIR] [--config.x=y ...]
#
# Environment:
#   LINEART_CPU_DEVICES=D       simulate D CPU devices per process (no GPU needed;
#                               CPU collectives via gloo)
#   LINEART_GPUS_PER_PROCESS=K  give process i the GPUs i*K .. i*K+K-1
#   LINEART_PORT=P              coordinator port (default: a free one)
#   LINEART_LAUNCH_LOGS=DIR     where processes 1.. write their output (launch_logs)
# Process 0 logs to the console.  If a process fails, the others are stopped and
# the exit status is the first failure's.
set -euo pipefail

if [[ $# -lt 2 || ! "$1" =~ ^[0-9]+$ ]]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
num_processes=$1
shift

port=${LINEART_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
log_dir=${LINEART_LAUNCH_LOGS:-launch_logs}
mkdir -p "$log_dir"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup INT TERM

for ((i = 0; i < num_processes; i++)); do
  env_vars=(
    "LINEART_COORDINATOR=127.0.0.1:${port}"
    "LINEART_NUM_PROCESSES=${num_processes}"
    "LINEART_PROCESS_ID=${i}"
  )
  if [[ -n "${LINEART_CPU_DEVICES:-}" ]]; then
    env_vars+=(
      "JAX_PLATFORMS=cpu"
      "LINEART_CPU_COLLECTIVES=gloo"
      "XLA_FLAGS=${XLA_FLAGS:-} --xla_force_host_platform_device_count=${LINEART_CPU_DEVICES}"
    )
  fi
  if [[ -n "${LINEART_GPUS_PER_PROCESS:-}" ]]; then
    k=${LINEART_GPUS_PER_PROCESS}
    env_vars+=("CUDA_VISIBLE_DEVICES=$(seq -s, $((i * k)) $((i * k + k - 1)))")
  fi
  if [[ $i -eq 0 ]]; then
    env "${env_vars[@]}" python -m lineart_jax.train "$@" &
  else
    env "${env_vars[@]}" python -m lineart_jax.train "$@" >"${log_dir}/process_${i}.log" 2>&1 &
  fi
  pids+=($!)
done

status=0
for pid in "${pids[@]}"; do
  rc=0
  wait "$pid" || rc=$?
  if [[ $rc -ne 0 && $status -eq 0 ]]; then
    status=$rc
    cleanup  # one process failed: the others would wait for it forever
  fi
done
exit "$status"
