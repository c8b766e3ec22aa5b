"""The command-line tools refuse a checkpoint URL whose unpickling would run code (served by a
local HTTP server): tools/train.py --resume / load_from, tools/test.py, tools/infer.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from holaframe.testing import write_tiny_detector
from holaframe.testing.hostile_checkpoints import serve_directory, write_code_running_checkpoint

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

TOY_CONFIG = """custom_imports = dict(imports=['holaframe.testing.distributed'],
                      allow_failed_imports=False)
default_scope = 'holaframe'
model = dict(type='DistToyDetector', data_preprocessor=dict(type='AVDataPreprocessor'))
train_dataloader = dict(batch_size=2, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='DistToyDataset', num_samples=4))
train_cfg = dict(by_epoch=True, max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
"""


def _run(args, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', TORCH_HOME=str(tmp_path / 'torch_home'))
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_tools_refuse_a_code_running_checkpoint_url(tmp_path, synthetic_avdf_root):
    www = tmp_path / 'www'
    www.mkdir()
    marker = tmp_path / 'PWNED'
    write_code_running_checkpoint(str(www / 'evil.pth'), str(marker))
    toy = tmp_path / 'toy.py'
    toy.write_text(TOY_CONFIG)
    tiny_cfg, _ = write_tiny_detector(str(tmp_path), synthetic_avdf_root)
    video = next(Path(synthetic_avdf_root, 'testA').rglob('*.mp4'))
    with serve_directory(str(www)) as (base, _):
        url = f'{base}/evil.pth'
        runs = {
            'train --resume': ['tools/train.py', str(toy), '--work-dir', str(tmp_path / 'w1'),
                               '--resume', url],
            'train load_from': ['tools/train.py', str(toy), '--work-dir', str(tmp_path / 'w2'),
                                '--cfg-options', f'load_from={url}'],
            'test': ['tools/test.py', tiny_cfg, url, '--work-dir', str(tmp_path / 'w3')],
            'infer': ['tools/infer.py', tiny_cfg, url, str(video), '--no-progress'],
        }
        for name, args in runs.items():
            proc = _run([str(REPO / args[0]), *args[1:]], tmp_path)
            out = proc.stdout + proc.stderr
            assert proc.returncode != 0, f'{name} accepted the checkpoint:\n{out[-3000:]}'
            assert 'UnsafeCheckpointError' in out and 'system' in out, f'{name}:\n{out[-3000:]}'
            assert '--unsafe-load' in out, name
            assert not marker.exists(), f'{name} ran the checkpoint\'s code'
