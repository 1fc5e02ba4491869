#!/usr/bin/env bash
# Line art for a dataset on every GPU of this machine: one infer process per GPU,
# process i on GPU i with --shard i/N, so the N processes cover the inputs once.
#
#   launch/infer_gpus.sh INPUT... --out=DIR [infer flags: --batch=8 --every=2 ...]
#
# Environment:
#   LINEART_GPUS=N            processes (default: the GPUs nvidia-smi lists; on a
#                             machine without GPUs, N CPU processes)
#   LINEART_LAUNCH_LOGS=DIR   where process i writes infer_shard_i.log (launch_logs)
# Rerun the same command to resume: finished outputs are skipped.  The exit
# status is the first failing process's (1: some inputs failed, listed in
# DIR/lineart_failures.shard-i-of-N.tsv).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
gpus=${LINEART_GPUS:-$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)}
if [[ ! "$gpus" =~ ^[0-9]+$ || "$gpus" -lt 1 ]]; then
  echo "no GPU found (nvidia-smi -L); set LINEART_GPUS=N to run N processes" >&2
  exit 2
fi
log_dir=${LINEART_LAUNCH_LOGS:-launch_logs}
mkdir -p "$log_dir"
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' INT TERM  # stop every shard (rerun resumes)

for ((i = 0; i < gpus; i++)); do
  CUDA_VISIBLE_DEVICES=$i python -m lineart_jax.infer "$@" --shard="$i/$gpus" \
    >"$log_dir/infer_shard_$i.log" 2>&1 &
  pids+=($!)
done

status=0
for i in "${!pids[@]}"; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  echo "shard $i/$gpus (exit $rc): $(tail -n 1 "$log_dir/infer_shard_$i.log")"
  if [[ $rc -ne 0 && $status -eq 0 ]]; then
    status=$rc
  fi
done
exit "$status"
