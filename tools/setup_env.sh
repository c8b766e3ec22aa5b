#!/usr/bin/env bash
# Creates ./.venv (if missing) and installs holaframe with its test dependencies into it.
# CPU machines get torch==2.13.0 (a CPU build). On a GPU machine, install your own torch
# (and DeepSpeed) into the venv first, or set HOLAFRAME_TORCH_SPEC, e.g. "torch==2.5.1".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${HOLAFRAME_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
if ! python -c "import torch" 2>/dev/null; then
  python -m pip install -q "${HOLAFRAME_TORCH_SPEC:-torch==2.13.0}" 2>&1 | grep -v "is ignored" || true
fi
python -m pip install -q -e ".[tests]" 2>&1 | grep -v "is ignored" || true
python -c "import holaframe, torch, mmengine; print('holaframe', holaframe.__version__, '| torch', torch.__version__, '| mmengine', mmengine.__version__)"
