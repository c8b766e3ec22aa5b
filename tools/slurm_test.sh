#!/usr/bin/env bash
# Evaluation under Slurm, as in MMAction2:
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5), SRUN_ARGS.
set -euo pipefail
usage="usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]"
if [ "$#" -lt 4 ]; then
  echo "$usage" >&2
  exit 2
fi
for arg in "$1" "$2" "$3" "$4"; do
  case "$arg" in
    -*) echo "$0: '$arg' is where PARTITION JOB_NAME CONFIG CHECKPOINT go; $usage" >&2; exit 2 ;;
  esac
done
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck disable=SC2086
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$DIR/test.py" "$CONFIG" "$CHECKPOINT" --launcher slurm "${@:5}"
