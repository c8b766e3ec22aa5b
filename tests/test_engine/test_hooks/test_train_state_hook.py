"""TrainStateHook: a resumed run continues exactly like an uninterrupted one (random streams,
position in the epoch), and checkpoints hold plain data only."""

import os.path as osp
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel

from holaframe.engine.runner import build_runner
from holaframe.engine.runner.train_state import (
    capture_rng_state,
    message_hub_from_plain,
    message_hub_to_plain,
    restore_rng_state,
    rng_preserved,
)
from holaframe.registry import DATASETS, MODELS
from holaframe.structures import AVDataSample


@DATASETS.register_module(force=True)
class NoisyToyClips(BaseDataset):
    """Clips of 4 features; the pipeline adds noise from Python's, NumPy's and torch's global
    generators (as random augmentations do)."""

    def __init__(self, num=10, **kwargs):
        self._num = num
        super().__init__(pipeline=[self._augment], serialize_data=False, **kwargs)

    def load_data_list(self):
        gen = torch.Generator().manual_seed(7)
        return [dict(file=f'clip_{i:02d}.mp4', label=i % 2,
                     feature=(torch.randn(4, generator=gen) + i % 2).tolist())
                for i in range(self._num)]

    @staticmethod
    def _augment(info):
        x = torch.tensor(info['feature'])
        x = x + 0.1 * torch.randn(4) + float(np.random.normal(0, 0.1)) + random.random() * 0.1
        sample = AVDataSample(metainfo=dict(file=info['file'], sample_idx=info['sample_idx']))
        sample.set_gt_label(info['label'])
        return dict(inputs=x, data_samples=sample)


@MODELS.register_module(force=True)
class DropoutToy(BaseModel):
    """Linear -> dropout -> linear: training consumes torch's global generator."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logit = self.net(torch.stack(inputs)).squeeze(1)
        if mode == 'tensor':
            return logit
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples]).float()
            return dict(loss=nn.functional.binary_cross_entropy_with_logits(logit, labels))
        for s, p in zip(data_samples, torch.sigmoid(logit)):
            s.set_pred_score(p.detach())
        return data_samples


def _cfg(work_dir, resume_from=None, by_epoch_ckpt=False, name='ts'):
    loader = dict(batch_size=2, num_workers=0, dataset=dict(type='NoisyToyClips', num=10),
                  sampler=dict(type='DefaultSampler', shuffle=True))
    val_loader = dict(loader, sampler=dict(type='DefaultSampler', shuffle=True))
    ckpt = (dict(type='CheckpointHook', interval=1) if by_epoch_ckpt else
            dict(type='CheckpointHook', interval=3, by_epoch=False, max_keep_ckpts=-1))
    return Config(dict(
        default_scope='holaframe',
        work_dir=work_dir,
        experiment_name=name,
        model=dict(type='DropoutToy'),
        train_dataloader=loader,
        val_dataloader=val_loader,
        val_evaluator=dict(type='VideoMetric'),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        default_hooks=dict(checkpoint=ckpt, logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=3),
        log_level='WARNING',
        resume=resume_from is not None,
        load_from=resume_from))


def _final_state(runner):
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    work = str(tmp_path_factory.mktemp('uninterrupted'))
    runner = build_runner(_cfg(work, name='ts_full'))
    runner.train()
    return work, _final_state(runner)


@pytest.mark.parametrize('ckpt', ['iter_6.pth', 'iter_12.pth', 'iter_3.pth'])
def test_resume_mid_epoch_equals_uninterrupted(uninterrupted, tmp_path, ckpt):
    """10 clips, batch 2: 5 iterations per epoch, so iterations 3, 6 and 12 are mid-epoch.
    Validation after every epoch draws from the global generators too."""
    work, expected = uninterrupted
    runner = build_runner(_cfg(str(tmp_path), resume_from=osp.join(work, ckpt),
                               name=f'ts_{ckpt}'))
    runner.train()
    assert runner.iter == 15
    got = _final_state(runner)
    for key, value in expected.items():
        assert torch.equal(got[key], value), key


def test_resume_at_epoch_end_equals_uninterrupted(tmp_path):
    full = build_runner(_cfg(str(tmp_path / 'full'), by_epoch_ckpt=True, name='ts_ep_full'))
    full.train()
    resumed = build_runner(_cfg(str(tmp_path / 'resumed'), by_epoch_ckpt=True,
                                resume_from=str(tmp_path / 'full' / 'epoch_1.pth'),
                                name='ts_ep_resumed'))
    resumed.train()
    expected, got = _final_state(full), _final_state(resumed)
    for key, value in expected.items():
        assert torch.equal(got[key], value), key


def test_checkpoint_is_plain_data_and_restores_the_message_hub(uninterrupted):
    work, _ = uninterrupted
    # No allow-list at all: tensors, numbers, strings and containers only.
    ckpt = torch.load(osp.join(work, 'iter_6.pth'), map_location='cpu', weights_only=True)
    state = ckpt['train_state']
    assert state['position'] == dict(epoch=1, iter=6, batches=1)
    assert state['world_size'] == 1 and len(state['rng']) == 1
    hub = ckpt['message_hub']
    assert hub['format'] == 'holaframe-plain-1'
    loss = hub['log_scalars']['train/loss']
    assert len(loss['log_history']) == 6 and loss['max_length'] > 0
    restored = message_hub_from_plain(hub)['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.current() == pytest.approx(loss['log_history'][-1])
    again = message_hub_to_plain(message_hub_from_plain(hub))
    assert again['log_scalars'] == hub['log_scalars']


def test_rng_capture_restore_and_preserved_block():
    state = capture_rng_state()
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    restore_rng_state(state)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
    before = capture_rng_state()
    with rng_preserved():
        torch.rand(100), np.random.rand(100), random.random()
    after = capture_rng_state()
    assert torch.equal(before['torch'], after['torch'])
    assert torch.equal(before['numpy']['keys'], after['numpy']['keys'])
    assert torch.equal(before['python']['keys'], after['python']['keys'])
