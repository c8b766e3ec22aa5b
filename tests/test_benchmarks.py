"""The benchmark suite's entry point runs a benchmark and writes its JSON and markdown files.

Only the structure is checked: speeds are printed by the benchmarks, never asserted.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / 'benchmarks' / 'run.py'


def _run(*args, **env):
    full_env = dict(os.environ, OMP_NUM_THREADS='1', **env)
    return subprocess.run([sys.executable, str(RUN), *args], cwd=REPO, capture_output=True,
                          text=True, env=full_env)


def test_list_names_every_script():
    proc = _run('--list')
    assert proc.returncode == 0, proc.stderr
    scripts = {p.name for p in (REPO / 'benchmarks').glob('*.py')} - {'run.py', 'measure.py'}
    listed = {line.split()[1] for line in proc.stdout.splitlines() if line.strip()}
    assert listed == scripts, f'benchmarks/run.py BENCHMARKS differs from the scripts: {listed}'


def test_unknown_names_and_bad_args_are_refused(tmp_path):
    proc = _run('no_such_bench', '--results-dir', str(tmp_path))
    assert proc.returncode != 0 and 'unknown benchmark' in proc.stderr
    proc = _run('pretrain_step', '--args', 'oops', '--results-dir', str(tmp_path))
    assert proc.returncode != 0 and 'NAME="ARGS"' in proc.stderr


@pytest.mark.slow
def test_quick_run_writes_machine_json_and_markdown(tmp_path):
    proc = _run('pretrain_step', '--quick', '--results-dir', str(tmp_path),
                HOLAFRAME_BENCH_MACHINE='test machine')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / 'test-machine.json').read_text())
    entry = data['runs']['pretrain_step']
    assert entry['returncode'] == 0 and entry['quick'] is True
    assert entry['command'].startswith('benchmarks/bench_pretrain_step.py --sizes tiny')
    assert len(entry['loadavg_before']) == 3
    rows = entry['report']['results']
    assert [r['dual_masking'] for r in rows] == [True, False]
    assert all(r['median_step_s'] > 0 and r['forward_gflops'] > 0 for r in rows)
    assert data['machine_info']['cpu_count'] == os.cpu_count()
    md = (tmp_path / 'test-machine.md').read_text()
    assert '## pretrain_step' in md and '| tiny | dual mask | 4 |' in md


def test_packed_clips_quick_run_reports_the_ratio_and_disk_use(tmp_path):
    proc = _run('packed_clips', '--quick', '--results-dir', str(tmp_path),
                HOLAFRAME_BENCH_MACHINE='test machine')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    entry = json.loads((tmp_path / 'test-machine.json').read_text())['runs']['packed_clips']
    assert entry['returncode'] == 0 and entry['quick'] is True
    (row, ) = entry['report']['results']
    assert row['pipeline'] == 'dense'
    assert row['video_clips_per_s_per_core'] > 0 and row['packed_clips_per_s_per_core'] > 0
    # The report rounds the rates and the ratio separately.
    assert row['ratio_per_core'] == pytest.approx(
        row['packed_clips_per_s_per_core'] / row['video_clips_per_s_per_core'], rel=0.01)
    assert row['disk_bytes_per_clip'] > 0 and row['extrapolated_tb'] > 0
