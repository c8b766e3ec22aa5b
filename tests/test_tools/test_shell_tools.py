"""tools/setup_env.sh stops at the first failed install and names its log; the Slurm launchers
take MMAction2's argument order (a fake ``srun`` records what would run)."""

import os
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for the venv's python: records every call; pip installs of $FAIL_ON fail.
echo "$*" >> "$CALLS"
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  case "$*" in
    *"$FAIL_ON"*) echo "ERROR: Could not find a version that satisfies $FAIL_ON"; exit 1 ;;
  esac
  exit 0
fi
if [ "$1" = "-c" ]; then exit 0; fi
exit 1
"""


def _fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    python = venv / 'bin' / 'python'
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    (venv / 'bin' / 'activate').write_text(f'export PATH="{venv / "bin"}:$PATH"\n')
    return venv


def test_setup_env_stops_at_the_first_failed_install(tmp_path):
    venv = _fake_venv(tmp_path)
    calls = tmp_path / 'calls.txt'
    env = dict(os.environ, HOLAFRAME_VENV=str(venv), CALLS=str(calls), FAIL_ON='.[tests,docs]',
               HOLAFRAME_TORCH_INDEX='')
    proc = subprocess.run(['bash', str(REPO / 'tools' / 'setup_env.sh')], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    log = venv / 'setup-logs' / 'pip-install-2.log'
    assert f'full log: {log}' in proc.stderr
    assert 'Could not find a version' in log.read_text()
    # Nothing after the failed install ran (the final import check of holaframe).
    assert not any('import holaframe' in line for line in calls.read_text().splitlines())


def test_setup_env_runs_to_the_end_when_installs_succeed(tmp_path):
    venv = _fake_venv(tmp_path)
    calls = tmp_path / 'calls.txt'
    env = dict(os.environ, HOLAFRAME_VENV=str(venv), CALLS=str(calls), FAIL_ON='nothing',
               HOLAFRAME_TORCH_INDEX='')
    proc = subprocess.run(['bash', str(REPO / 'tools' / 'setup_env.sh')], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = calls.read_text().splitlines()
    assert any('pip install -q -e .[tests,docs]' in line for line in lines)
    assert 'import holaframe' in lines[-1]


def _fake_srun(tmp_path: Path) -> dict:
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$SRUN_ARGS_FILE"\n')
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    return dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}',
                SRUN_ARGS_FILE=str(tmp_path / 'srun_args.txt'), GPUS='16')


def test_slurm_train_takes_partition_job_config_work_dir(tmp_path):
    env = _fake_srun(tmp_path)
    proc = subprocess.run(['bash', 'tools/slurm_train.sh', 'gpu', 'hola', 'configs/x.py',
                           'work_dirs/x', '--resume', '--cfg-options', 'a=1'], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = (tmp_path / 'srun_args.txt').read_text().splitlines()
    assert args[:3] == ['-p', 'gpu', '--job-name=hola'] and '--ntasks=16' in args
    python = args[args.index('python'):]
    assert python[1] == '-u' and python[2].endswith('tools/train.py')
    assert python[3:] == ['configs/x.py', '--work-dir=work_dirs/x', '--launcher', 'slurm',
                          '--resume', '--cfg-options', 'a=1']


def test_slurm_scripts_refuse_a_wrong_argument_order(tmp_path):
    env = _fake_srun(tmp_path)
    for script, args in (('slurm_train.sh', ['gpu', 'hola', 'configs/x.py']),
                         ('slurm_train.sh', ['gpu', 'hola', 'configs/x.py', '--resume']),
                         ('slurm_test.sh', ['gpu', 'hola', 'configs/x.py'])):
        proc = subprocess.run(['bash', f'tools/{script}', *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and 'usage:' in proc.stderr, (script, args, proc.stderr)
    assert not (tmp_path / 'srun_args.txt').exists()


def test_slurm_test_takes_partition_job_config_checkpoint(tmp_path):
    env = _fake_srun(tmp_path)
    proc = subprocess.run(['bash', 'tools/slurm_test.sh', 'gpu', 'eval', 'configs/x.py',
                           'model.pth', '--out', 'preds.json'], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = (tmp_path / 'srun_args.txt').read_text().splitlines()
    python = args[args.index('python'):]
    assert python[1] == '-u' and python[2].endswith('tools/test.py')
    assert python[3:] == ['configs/x.py', 'model.pth', '--launcher', 'slurm', '--out',
                          'preds.json']
