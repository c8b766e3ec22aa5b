"""tools/train.py, tools/test.py and the listing tools run end to end in subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'configs/hola/hola_vit-nano_scratch_1xb8-10min_synthetic.py'


def _run(args, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, **kwargs)
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def _data_options(root):
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={root}', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False', f'{loader}.batch_size=4']
    return opts


@pytest.mark.slow
def test_train_resume_and_test(synthetic_avdf_root, tmp_path):
    work = tmp_path / 'work'
    opts = _data_options(synthetic_avdf_root) + ['train_cfg.max_epochs=1']
    _run(['tools/train.py', CONFIG, '--work-dir', str(work), '--cfg-options', *opts])
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')

    # --resume without a path continues from the latest checkpoint of the work dir.
    opts2 = _data_options(synthetic_avdf_root) + ['train_cfg.max_epochs=2']
    out = _run(['tools/train.py', CONFIG, '--work-dir', str(work), '--resume', '--cfg-options',
                *opts2])
    assert 'resumed epoch: 1' in (out.stdout + out.stderr)
    assert (work / 'epoch_2.pth').is_file()

    # tools/test.py on the labeled val subset writes the metrics JSON and, with --show-dir,
    # the plots.
    test_work = tmp_path / 'test'
    show = tmp_path / 'show'
    test_opts = _data_options(synthetic_avdf_root) + [
        'test_dataloader.dataset.type=AVDeepfake1MDataset',
        'test_dataloader.dataset.subset=val', 'test_dataloader.dataset.test_mode=True']
    _run(['tools/test.py', CONFIG, str(work / 'epoch_2.pth'), '--work-dir', str(test_work),
          '--show-dir', str(show), '--cfg-options', *test_opts])
    metrics = json.loads((test_work / 'metrics.json').read_text())
    assert 0.0 <= metrics['video/auc'] <= 1.0
    for name in ('roc.png', 'score_histograms.png'):
        assert (show / name).read_bytes()[:4] == b'\x89PNG', name


def test_train_rejects_missing_config(tmp_path):
    proc = subprocess.run([sys.executable, 'tools/train.py', str(tmp_path / 'nope.py')],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'Config file not found' in proc.stderr


def test_print_config_and_collect_env():
    out = _run(['tools/misc/print_config.py', CONFIG, '--cfg-options',
                'train_cfg.max_epochs=3']).stdout
    assert "default_scope = 'holaframe'" in out
    assert 'max_epochs=3' in out
    env = _run(['tools/misc/collect_env.py']).stdout
    assert 'holaframe: ' in env and 'MMEngine: ' in env


def test_dist_scripts_use_torchrun():
    for script in ('dist_train.sh', 'dist_test.sh'):
        text = (REPO / 'tools' / script).read_text()
        assert 'torch.distributed.run' in text and 'torch.distributed.launch' not in text
        for var in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
            assert var in text
    assert 'srun' in (REPO / 'tools' / 'slurm_train.sh').read_text()
