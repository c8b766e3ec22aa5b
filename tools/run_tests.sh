#!/usr/bin/env bash
# The test command of README.md and CI (.ci/run): installs into ./.venv, lints, builds the
# documentation strictly, and runs the whole suite (slow tests included). Fails on any failure
# and when pytest collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Idle OpenMP threads sleep instead of spinning (see docs/performance.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
bash tools/setup_env.sh
# shellcheck disable=SC1091
. "${HOLAFRAME_VENV:-.venv}/bin/activate"
ruff check .
# Broken links, pages missing from the nav and unknown anchors fail the build (mkdocs.yml).
site=$(mktemp -d)
mkdocs build --strict --quiet --site-dir "$site"
rm -rf "$site"
set +e
python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
