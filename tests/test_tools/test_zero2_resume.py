"""2-process DeepSpeed ZeRO-2 (``tools/dist_train.sh``): a run killed with SIGKILL in the
middle of its 2nd epoch and resumed with ``--resume`` ends exactly like an uninterrupted run
(epoch and iteration counters, weights, every rank's optimizer partition).

The config saves the best checkpoint after each validation (``save_best``), which re-saves the
last epoch checkpoint after the epoch counter has advanced: ``epoch_1.pth`` must still say
epoch 1, or ``--resume`` would skip the 2nd epoch.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from holaframe.engine.strategies.hola_deep_speed_strategy import deepspeed_checkpoint_globals
from holaframe.utils.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CONFIG = f"""_base_ = [{str(REPO / 'configs/_base_/default_runtime.py')!r},
             {str(REPO / 'configs/_base_/strategies/zero2.py')!r}]
custom_imports = dict(imports=['holaframe.testing.distributed', 'holaframe.testing.pause_hook'],
                      allow_failed_imports=False)
model = dict(type='DistToyDetector', data_preprocessor=dict(type='AVDataPreprocessor'))
loader = dict(batch_size=2, num_workers=0, collate_fn=dict(type='pseudo_collate'),
              sampler=dict(type='DefaultSampler', shuffle=True),
              dataset=dict(type='DistToyDataset', num_samples=16))
train_dataloader = loader
val_dataloader = dict(loader, sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='VideoMetric')
val_cfg = dict()
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=1.0),
                     optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.01))
param_scheduler = []
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=-1,
                    save_best='video/auc', rule='greater'),
    logger=dict(interval=1))
custom_hooks = [dict(type='PauseAtIterHook')]
randomness = dict(seed=5)
"""


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _cmd(cfg: Path, work: Path, *extra: str) -> list:
    return ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(cfg), '2', '--work-dir', str(work),
            *extra]


def _env(**extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT=str(_port()), **extra)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    return env


def _run(cfg: Path, work: Path, *extra: str) -> str:
    proc = subprocess.run(_cmd(cfg, work, *extra), cwd=REPO, env=_env(), capture_output=True,
                          text=True, timeout=400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


def _read(path: Path) -> dict:
    return load_checkpoint(str(path), extra_safe_globals=deepspeed_checkpoint_globals())


def _same(a, b, where=''):
    import torch
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _same(a[key], b[key], f'{where}/{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f'{where}[{i}]')
    elif hasattr(a, '__dict__') and not isinstance(a, type):  # DeepSpeed's loss scaler
        assert type(a) is type(b), where
        _same(vars(a), vars(b), where)
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def test_zero2_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    cfg = tmp_path / 'toy_zero2.py'
    cfg.write_text(CONFIG)
    full, killed = tmp_path / 'full', tmp_path / 'killed'
    _run(cfg, full)

    # 16 clips, 2 ranks x batch 2: 4 iterations per epoch; iteration 6 is in the 2nd epoch.
    marker = tmp_path / 'paused'
    proc = subprocess.Popen(
        _cmd(cfg, killed), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=_env(HOLAFRAME_PAUSE_AT_ITER='6', HOLAFRAME_PAUSE_MARKER=str(marker)),
        start_new_session=True)
    try:
        deadline = time.time() + 400
        while not marker.exists():
            assert proc.poll() is None, f'training ended (rc {proc.returncode}) before the kill'
            assert time.time() < deadline, 'training did not reach the kill point'
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both workers
        proc.wait()
    assert not (killed / 'epoch_2.pth').exists()
    meta = _read(killed / 'epoch_1.pth' / 'mp_rank_00_model_states.pt')['meta']
    assert (meta['epoch'], meta['iter']) == (1, 4)

    out = _run(cfg, killed, '--resume')
    assert 'resumed epoch: 1, iter: 4' in out
    assert (killed / 'epoch_2.pth').is_dir()
    a = _read(full / 'epoch_2.pth' / 'mp_rank_00_model_states.pt')
    b = _read(killed / 'epoch_2.pth' / 'mp_rank_00_model_states.pt')
    assert (a['meta']['epoch'], a['meta']['iter']) == (b['meta']['epoch'], b['meta']['iter'])
    assert (b['meta']['epoch'], b['meta']['iter']) == (2, 8)
    _same(a['module'], b['module'], 'module')
    for rank in (0, 1):
        name = f'zero_pp_rank_{rank}_mp_rank_00_optim_states.pt'
        _same(_read(full / 'epoch_2.pth' / name)['optimizer_state_dict'],
              _read(killed / 'epoch_2.pth' / name)['optimizer_state_dict'], f'rank {rank}')
    # No temporary folder of an interrupted save is left behind.
    assert not list(killed.glob('.*.tmp'))
