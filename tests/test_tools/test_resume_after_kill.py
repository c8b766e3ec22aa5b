"""A training process killed with SIGKILL in the middle of an epoch and resumed with
``tools/train.py --resume`` ends with exactly the weights, optimizer state and pseudo-labels of
an uninterrupted run with the same seed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.testing import tiny_model, tiny_pipeline
from holaframe.utils.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def write_config(path: Path, root: str) -> Path:
    """Tiny HOLA detector, 6 labeled clips (3 iterations per epoch), 2 pseudo-label rounds,
    validation every epoch, a checkpoint every 2 iterations; random frame sampling, so the
    random streams matter."""

    def loader(dataset, shuffle=False):
        return dict(batch_size=2, num_workers=0, dataset=dataset,
                    sampler=dict(type='DefaultSampler', shuffle=shuffle))

    labeled = dict(type='AVDeepfake1MDataset', data_root=root, num_samples=6, subset_mode='first')
    test_a = dict(type='AVDeepfake1MTestDataset', data_root=root, subset='testA')
    cfg = Config(dict(
        default_scope='holaframe',
        custom_imports=dict(imports=['holaframe.testing.pause_hook'], allow_failed_imports=False),
        model=tiny_model(),
        train_dataloader=loader(dict(labeled, subset='train',
                                     pipeline=tiny_pipeline(test_mode=False)), shuffle=True),
        val_dataloader=loader(dict(labeled, subset='val', test_mode=True,
                                   pipeline=tiny_pipeline())),
        val_evaluator=dict(type='VideoMetric'),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        custom_hooks=[
            dict(type='PseudoLabelHook', num_rounds=2, threshold=0.55,
                 unlabeled_dataloader=loader(dict(test_a, pipeline=tiny_pipeline())),
                 train_dataset=dict(test_a, pipeline=tiny_pipeline(test_mode=False))),
            dict(type='PauseAtIterHook'),
        ],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                            max_keep_ckpts=-1),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=11),
        log_level='INFO',
    ))
    cfg.dump(str(path))
    return path


def _env(**extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', **extra)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    return env


def train(cfg: Path, work: Path, *extra: str) -> str:
    proc = subprocess.run([sys.executable, 'tools/train.py', str(cfg), '--work-dir', str(work),
                           *extra], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def train_and_kill(cfg: Path, work: Path, at_iter: int, marker: Path) -> None:
    """Start training, wait until rank 0 finished iteration ``at_iter``, then SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', str(cfg), '--work-dir', str(work)], cwd=REPO,
        env=_env(HOLAFRAME_PAUSE_AT_ITER=str(at_iter), HOLAFRAME_PAUSE_MARKER=str(marker)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 400
        while not marker.exists():
            assert proc.poll() is None, f'training ended (rc {proc.returncode}) before the kill'
            assert time.time() < deadline, 'training did not reach the kill point'
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def last_checkpoint(work: Path) -> dict:
    name = (work / 'last_checkpoint').read_text().strip()
    return load_checkpoint(name)


def assert_same_tensors(a, b, where=''):
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            assert_same_tensors(a[key], b[key], f'{where}/{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tensors(x, y, f'{where}[{i}]')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path, synthetic_avdf_root):
    cfg = write_config(tmp_path / 'tiny_pseudo.py', synthetic_avdf_root)
    full, killed = tmp_path / 'full', tmp_path / 'killed'
    train(cfg, full)
    # Iteration 5 is the 2nd of epoch 1 (round 1, with pseudo-labels): the last checkpoint is
    # iter_4.pth, one batch into the epoch; iteration 5 is lost with the process.
    train_and_kill(cfg, killed, at_iter=5, marker=tmp_path / 'paused')
    assert (killed / 'iter_4.pth').is_file() and not (killed / 'iter_6.pth').exists()
    out = train(cfg, killed, '--resume')
    assert 'resumed epoch: 1, iter: 4' in out

    a, b = last_checkpoint(full), last_checkpoint(killed)
    assert a['meta']['iter'] == b['meta']['iter'] and a['meta']['epoch'] == b['meta']['epoch']
    assert_same_tensors(a['state_dict'], b['state_dict'], 'state_dict')
    assert_same_tensors(a['optimizer'], b['optimizer'], 'optimizer')
    assert a['pseudo_label'] == b['pseudo_label']
    assert a['pseudo_label']['round'] == 2 and a['pseudo_label']['files']
    for round_file in sorted((full / 'pseudo_labels').glob('round_*.jsonl')):
        rows = [json.loads(x) for x in round_file.read_text().splitlines()]
        again = [json.loads(x) for x in (killed / 'pseudo_labels' / round_file.name)
                 .read_text().splitlines()]
        assert rows == again, round_file.name
