"""ModuleStatsHook: per-loss gradient norms per module, activation statistics, no side effects."""

import copy
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.runner import Runner

from holaframe.engine.hooks import ModuleStatsHook
from holaframe.engine.hooks.module_stats_hook import activation_stats
from holaframe.registry import HOOKS, MODELS
from holaframe.structures import AVDataSample

DIM = 16
DENSE = dict(
    type='HOLADetector',
    video_encoder=dict(type='FrameConvStem', embed_dim=DIM, stage_channels=(8,)),
    audio_encoder=dict(type='FrameAudioEncoder', in_channels=10, embed_dim=DIM),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=DIM, in_channels_audio=DIM,
              out_channels=DIM, in_length_video=None, in_length_audio=None, out_length=None),
    interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_layers=1, num_heads=2),
    fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=2),
    refiner=dict(type='PyramidRefiner', dim=DIM),
    head=dict(type='ClsHead', in_channels=DIM),
    aux_head=dict(type='FrameAuxHead', in_channels=DIM, hidden_channels=8, sync_offsets=1,
                  sync_source='aligned'),
    predict_source='mean',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3))


def _batch(n=4, frames=8, size=16):
    torch.manual_seed(0)
    samples = []
    for i in range(n):
        s = AVDataSample().set_gt_label(i % 2)
        s.frame_labels = torch.zeros(frames)
        if i % 2:
            s.frame_labels[2:5] = 1
        samples.append(s)
    return dict(inputs=dict(
        video=[torch.randint(0, 256, (3, frames, size, size), dtype=torch.uint8)
               for _ in range(n)],
        audio=[torch.randn(frames, 10) for _ in range(n)]), data_samples=samples)


def test_activation_stats():
    x = torch.stack([torch.ones(5, 3), -torch.ones(5, 3)])  # two clips, opposite features
    st = activation_stats(x)
    assert st['mean'] == 0 and st['std'] == 1 and st['absmax'] == 1 and st['clip_std'] == 1
    assert activation_stats(torch.ones(4, 7, 3))['clip_std'] == 0


def test_collect_separates_loss_terms_and_leaves_the_model_untouched():
    model = MODELS.build(copy.deepcopy(DENSE))
    data = _batch()
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    hook = ModuleStatsHook(act_modules=['neck', 'refiner', 'interaction.video_layers.0.gate'])
    record = hook.collect(model, data)
    grads = record['grad_norm']
    # No gradients left behind, BatchNorm statistics restored.
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.named_buffers():
        torch.testing.assert_close(v, buffers[k])
    assert set(grads) == {'video_encoder', 'audio_encoder', 'neck', 'interaction', 'fusion',
                          'refiner', 'head', 'aux_head'}
    assert set(grads['head']) == {'loss_cls', 'loss_frame', 'loss_clip_aux'}
    # The classification loss never reaches the auxiliary head and vice versa.
    assert grads['aux_head']['loss_cls'] == 0 and grads['head']['loss_frame'] == 0
    assert grads['refiner']['loss_cls'] > 0 and grads['neck']['loss_frame'] > 0
    # The head's gradient norm is that of autograd on loss_cls alone.
    torch.manual_seed(1)
    d = model.data_preprocessor(copy.deepcopy(data), True)
    loss = model(**d, mode='loss')['loss_cls']
    g = torch.autograd.grad(loss, list(model.head.parameters()))
    assert grads['head']['loss_cls'] == pytest.approx(
        float(sum(x.pow(2).sum() for x in g)) ** 0.5, rel=1e-4)
    assert set(record['activations']) == {'neck.0', 'neck.1', 'refiner',
                                          'interaction.video_layers.0.gate'}
    assert record['activations']['refiner']['clip_std'] > 0
    assert record['losses']['loss_cls'] > 0
    assert 'module stats' in ModuleStatsHook.format_record(dict(iter=1, **record))
    with pytest.raises(KeyError, match='no module'):
        ModuleStatsHook(grad_modules=['nope']).collect(model, data)


class _Clips(BaseDataset):
    def __init__(self):
        super().__init__(pipeline=[self._pack], serialize_data=False)

    def load_data_list(self):
        return [dict(x=float(i % 2), label=i % 2) for i in range(8)]

    @staticmethod
    def _pack(info):
        sample = AVDataSample().set_gt_label(info['label'])
        return dict(inputs=torch.tensor([info['x']]), data_samples=sample)


class _TwoLossModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(1, 4)
        self.cls = nn.Linear(4, 1)
        self.aux = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        h = torch.relu(self.body(torch.stack(inputs)))
        y = torch.cat([s.gt_label for s in data_samples]).float()
        bce = nn.functional.binary_cross_entropy_with_logits
        return dict(loss_cls=bce(self.cls(h)[:, 0], y), loss_aux=bce(self.aux(h)[:, 0], y))


def test_hook_in_a_runner_writes_records(tmp_path):
    runner = Runner(
        model=_TwoLossModel(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=_Clips(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        custom_hooks=[dict(type='ModuleStatsHook', interval=2)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        default_scope='holaframe', experiment_name='module_stats_hook_test')
    runner.train()
    with open(osp.join(str(tmp_path), 'module_stats.jsonl')) as f:
        records = [json.loads(line) for line in f]
    assert [r['iter'] for r in records] == [1, 2, 4]  # the first, then every 2nd iteration
    rec = records[0]
    assert set(rec['grad_norm']) == {'body', 'cls', 'aux'}
    assert rec['grad_norm']['cls']['loss_aux'] == 0 and rec['grad_norm']['cls']['loss_cls'] > 0
    assert rec['optim']['body'] == pytest.approx(dict(lr=0.01, weight_decay=0.1))
    assert HOOKS.get('ModuleStatsHook') is ModuleStatsHook
