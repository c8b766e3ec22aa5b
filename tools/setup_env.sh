#!/usr/bin/env bash
# Creates ./.venv (if missing) and installs holaframe with its test and docs dependencies, and
# Debian's chromium for the browser test when it is missing (as root, with apt-get).
#
# torch is installed only when the venv has none: HOLAFRAME_TORCH_SPEC (default torch==2.13.0).
# For that default pin on a machine without an NVIDIA GPU the PyTorch CPU wheel index
# (HOLAFRAME_TORCH_INDEX, default https://download.pytorch.org/whl/cpu) is added when it
# answers, so pip takes the CPU build (about 190 MB) instead of PyPI's default Linux build, which
# pulls several GB of CUDA libraries; a torch wheel already on the machine (pip's find-links or
# a local index) is used in either case. On a GPU machine install your own torch into the venv
# first, or set HOLAFRAME_TORCH_SPEC (and HOLAFRAME_TORCH_INDEX, e.g. .../whl/cu124).
# HOLAFRAME_TORCH_INDEX= (empty) never adds an index.
# Each pip install writes its full log to $HOLAFRAME_SETUP_LOG_DIR (default $VENV/setup-logs);
# the first install that fails stops the script and prints the path of its log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${HOLAFRAME_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
# pip install -q without the "is ignored" lines of unused local indexes. Every install keeps its
# full log in $LOG_DIR; the first failed install stops the script with the path of its log.
LOG_DIR=${HOLAFRAME_SETUP_LOG_DIR:-$VENV/setup-logs}
mkdir -p "$LOG_DIR"
STEP=0
quiet_pip() {
  local log rc=0
  STEP=$((STEP + 1))
  log="$LOG_DIR/pip-install-$STEP.log"
  echo "pip install $*" >"$log"
  python -m pip install -q "$@" >>"$log" 2>&1 || rc=$?
  grep -v "is ignored" "$log" | tail -n +2 || true
  if [ "$rc" -ne 0 ]; then
    echo "setup_env.sh: 'pip install $*' failed (exit $rc); full log: $log" >&2
  fi
  return "$rc"
}
quiet_pip --upgrade pip || echo "pip could not be upgraded; continuing with $(python -m pip --version)"
if ! python -c "import torch" 2>/dev/null; then
  spec=${HOLAFRAME_TORCH_SPEC:-torch==2.13.0}
  if [ -n "${HOLAFRAME_TORCH_INDEX+set}" ]; then
    index=$HOLAFRAME_TORCH_INDEX
  elif [ -z "${HOLAFRAME_TORCH_SPEC:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
    index=https://download.pytorch.org/whl/cpu   # the default pin on a CPU machine
  else
    index=
  fi
  if [ -n "$index" ] && python - "$index" <<'PYEOF'
import sys
import urllib.request
try:
    urllib.request.urlopen(sys.argv[1].rstrip('/') + '/torch/', timeout=10)
except Exception:
    sys.exit(1)
PYEOF
  then
    echo "installing $spec (CPU build from $index)"
    quiet_pip "$spec" --extra-index-url "$index" || exit $?
  else
    [ -n "$index" ] && echo "$index does not answer: installing $spec from the default indexes"
    quiet_pip "$spec" || exit $?
  fi
fi
quiet_pip -e ".[tests,docs]" || exit $?
# The scoring page's browser test drives Debian's Chromium through Playwright, which never
# downloads a browser here: install the system package when it is missing (as root with
# apt-get; the log goes to $LOG_DIR like the pip logs, and a failure stops the script).
CHROMIUM=${HOLAFRAME_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    log="$LOG_DIR/apt-install-chromium.log"
    echo "installing chromium with apt-get (log: $log)"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
        >"$log" 2>&1; then
      echo "setup_env.sh: 'apt-get install chromium' failed; full log: $log" >&2
      exit 1
    fi
  else
    echo "setup_env.sh: $CHROMIUM is missing and apt-get cannot install it (not root?): the" \
      "browser test will fail until Chromium is installed (or HOLAFRAME_CHROMIUM names it)" >&2
  fi
fi
python -c "import holaframe, torch, mmengine; print('holaframe', holaframe.__version__, '| torch', torch.__version__, '| mmengine', mmengine.__version__)"
