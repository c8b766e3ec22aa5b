#!/usr/bin/env bash
# The main job of README.md, on the embedded default (synthetic data this project generates):
#   1. install into ./.venv (tools/setup_env.sh),
#   2. generate the synthetic AV-Deepfake1M++ dataset under data/synthetic_avdf,
#   3. train the synthetic HOLA config on the CPU (about 10 minutes on 2 cores),
#   4. evaluate on the labeled val subset (metrics JSON + ROC curve),
#   5. write the challenge submission for the unlabeled testA subset.
# Override with CONFIG=..., DATA=..., WORK=... in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning (see docs/performance.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
bash tools/setup_env.sh
# shellcheck disable=SC1091
. "${HOLAFRAME_VENV:-.venv}/bin/activate"

CONFIG=${CONFIG:-configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py}
DATA=${DATA:-data/synthetic_avdf}
WORK=${WORK:-work_dirs/demo}
DATA_OPTS=(train_dataloader.dataset.data_root="$DATA" val_dataloader.dataset.data_root="$DATA"
           test_dataloader.dataset.data_root="$DATA")

if [ ! -f "$DATA/testA_files.txt" ]; then
  python tools/data/make_synthetic_avdf.py "$DATA"
fi

python tools/train.py "$CONFIG" --work-dir "$WORK/train" --cfg-options "${DATA_OPTS[@]}"

# The best checkpoint by validation AUC (CheckpointHook save_best), else the last one.
CKPT=$(ls -t "$WORK"/train/best_*.pth 2>/dev/null | head -n 1 || true)
if [ -z "$CKPT" ]; then
  CKPT=$(cat "$WORK/train/last_checkpoint")
fi
echo "checkpoint: $CKPT"

python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/val" --cfg-options "${DATA_OPTS[@]}" \
  test_dataloader.dataset.type=AVDeepfake1MDataset test_dataloader.dataset.subset=val \
  test_dataloader.dataset.test_mode=True
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/testA" --cfg-options "${DATA_OPTS[@]}" \
  --submission "$WORK/testA_submission.txt"

echo
echo "== validation metrics ($WORK/val/metrics.json) =="
cat "$WORK/val/metrics.json"
echo
echo "== testA submission: $WORK/testA_submission.txt ($(wc -l < "$WORK/testA_submission.txt") lines) =="
head -n 5 "$WORK/testA_submission.txt"
