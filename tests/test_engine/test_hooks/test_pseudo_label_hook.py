"""PseudoLabelHook: rounds, selection at the threshold, checkpointed state and resume."""

import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from holaframe.engine.hooks import PseudoLabelHook
from holaframe.engine.runner import build_runner
from holaframe.structures import AVDataSample
from holaframe.testing import tiny_model, tiny_pipeline
from holaframe.utils import register_all_modules
from holaframe.utils.checkpoint import allow_mmengine_checkpoints


class ToyClips(BaseDataset):
    """Clips whose single feature is +-1 (fake/real); unlabeled clips have label -1."""

    def __init__(self, features, labels, prefix):
        self._features, self._labels, self._prefix = features, labels, prefix
        super().__init__(pipeline=[self._pack], serialize_data=False)

    def load_data_list(self):
        return [dict(file=f'{self._prefix}/{i:02d}.mp4', feature=float(x), label=int(y))
                for i, (x, y) in enumerate(zip(self._features, self._labels))]

    @staticmethod
    def _pack(info):
        sample = AVDataSample(metainfo=dict(file=info['file'], sample_idx=info['sample_idx']))
        sample.set_gt_label(info['label'])
        return dict(inputs=torch.tensor([info['feature']]), data_samples=sample)


class ToyDetector(BaseModel):
    """Logit = scale * w * x: saturates to a float32 probability of exactly 0 or 1."""

    def __init__(self, scale=40.0):
        super().__init__()
        self.fc = nn.Linear(1, 1)
        nn.init.constant_(self.fc.weight, 1.0)
        nn.init.zeros_(self.fc.bias)
        self.scale = scale

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logit = self.scale * self.fc(torch.stack(inputs)).squeeze(1)
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples]).float()
            return dict(loss=nn.functional.binary_cross_entropy_with_logits(logit, labels))
        prob = torch.sigmoid(logit.float())
        for s, p in zip(data_samples, prob):
            s.set_pred_score(p.detach())
        return data_samples


class Probe(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.seen = []

    def before_train_epoch(self, runner):
        self.seen.append((runner.epoch, len(runner.train_loop.dataloader.dataset)))


# 4 unlabeled clips are confident (|x| = 1), 2 are not (x = +-0.01).
UNLABELED = [1.0, -1.0, 1.0, 0.01, -0.01, -1.0]


def _runner(work_dir, max_epochs, epochs_per_round, resume=False, load_from=None,
            initial_epochs=None):
    labeled = ToyClips([1.0, -1.0, 1.0, -1.0], [1, 0, 1, 0], 'train')
    hook = dict(
        type='PseudoLabelHook',
        unlabeled_dataloader=dict(
            batch_size=2, num_workers=0,
            dataset=ToyClips(UNLABELED, [-1] * 6, 'testA'),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        num_rounds=2, epochs_per_round=epochs_per_round, initial_epochs=initial_epochs)
    return Runner(
        model=ToyDetector(),
        work_dir=work_dir,
        train_dataloader=dict(dataset=labeled, batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        val_dataloader=dict(dataset=ToyClips([1.0, -1.0, 0.5], [1, 0, 1], 'val'), batch_size=2,
                            num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type='VideoMetric'),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),  # keeps the toy model fixed
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        custom_hooks=[hook, dict(type=Probe), dict(type='TrainStateHook')],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        default_scope='holaframe',
        resume=resume,
        load_from=load_from,
        experiment_name=f'pl_{osp.basename(work_dir)}_{int(resume)}')


def _hooks(runner):
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    probe = next(h for h in runner.hooks if isinstance(h, Probe))
    return hook, probe


def test_selection_threshold_float32():
    hook = PseudoLabelHook(unlabeled_dataloader={}, threshold=1.0)
    scores = {'a': 1.0, 'b': 0.99999, 'c': 1e-9, 'd': 1e-4, 'e': float(np.float32(1 - 1e-9))}
    # 1 - 1e-9 is 1.0 in float32; 1e-9 makes the real confidence exactly 1.0 in float32.
    assert hook._select(scores) == {'a': 1, 'c': 0, 'e': 1}
    assert PseudoLabelHook(unlabeled_dataloader={}, threshold=0.9)._select(scores) == {
        'a': 1, 'b': 1, 'c': 0, 'd': 0, 'e': 1}
    with pytest.raises(ValueError, match='threshold'):
        PseudoLabelHook(unlabeled_dataloader={}, threshold=0.5)


def test_two_rounds_and_resume(tmp_path):
    work = str(tmp_path / 'run')
    runner = _runner(work, max_epochs=6, epochs_per_round=2)
    runner.train()
    hook, probe = _hooks(runner)
    assert hook.round == 2
    expected = {'testA/00.mp4': 1, 'testA/01.mp4': 0, 'testA/02.mp4': 1, 'testA/05.mp4': 0}
    assert hook.labels == expected
    # Stage 0 trains on 4 labeled clips, stages 1 and 2 on 4 + 4 pseudo-labelled clips.
    assert probe.seen == [(0, 4), (1, 4), (2, 8), (3, 8), (4, 8), (5, 8)]
    assert [h['round'] for h in hook.history] == [1, 2]
    first = hook.history[0]
    assert (first['num_real'], first['num_fake'], first['added'], first['changed']) == (2, 2, 4, 0)
    assert hook.history[1]['added'] == 0 and hook.history[1]['val_metric'] == pytest.approx(1.0)
    rows = [json.loads(x) for x in open(osp.join(work, 'pseudo_labels', 'round_1.jsonl'))]
    assert {r['file']: r['label'] for r in rows} == expected

    # The checkpoint after epoch 3 (middle of round 1) holds the round state ...
    ckpt = osp.join(work, 'epoch_3.pth')
    with allow_mmengine_checkpoints():
        state = torch.load(ckpt, map_location='cpu', weights_only=True)['pseudo_label']
    assert state['round'] == 1 and dict(zip(state['files'], state['labels'])) == expected

    # ... and resuming continues round 1 with the same set, then runs round 2.
    resumed = _runner(str(tmp_path / 'resumed'), max_epochs=6, epochs_per_round=2, resume=True,
                      load_from=ckpt)
    with allow_mmengine_checkpoints():
        resumed.train()
    hook2, probe2 = _hooks(resumed)
    assert probe2.seen == [(3, 8), (4, 8), (5, 8)]
    assert hook2.round == 2 and hook2.labels == expected
    assert hook2.history[0] == hook.history[0]  # round 1 restored, not recomputed
    assert len(hook2.history) == 2


def test_load_from_does_not_inherit_pseudo_labels(tmp_path):
    """Fine-tuning from another run's checkpoint (load_from, no resume) starts without its
    pseudo-labels: stage 0 trains on the labeled clips only and round 1 is computed anew."""
    work = str(tmp_path / 'run')
    _runner(work, max_epochs=6, epochs_per_round=2).train()
    ckpt = osp.join(work, 'epoch_3.pth')
    with allow_mmengine_checkpoints():
        assert torch.load(ckpt, weights_only=True)['pseudo_label']['round'] == 1
    fresh = _runner(str(tmp_path / 'fine_tune'), max_epochs=3, epochs_per_round=1,
                    load_from=ckpt)
    fresh.train()
    hook, probe = _hooks(fresh)
    assert probe.seen == [(0, 4), (1, 8), (2, 8)]
    assert [h['epoch'] for h in hook.history] == [1, 2]


def test_prediction_shows_a_progress_bar(tmp_path, capsys):
    _runner(str(tmp_path / 'bar'), max_epochs=3, epochs_per_round=1).train()
    err = capsys.readouterr().err
    assert 'pseudo-labels round 1' in err and 'pseudo-labels round 2' in err
    assert '/3 ' in err  # 6 unlabeled clips in batches of 2: the total is known


def test_rounds_only_from_a_fine_tuned_model(tmp_path):
    """initial_epochs=0: the first round starts with the first epoch (after load_from)."""
    runner = _runner(str(tmp_path / 'rounds'), max_epochs=4, epochs_per_round=2,
                     initial_epochs=0)
    runner.train()
    hook, probe = _hooks(runner)
    assert probe.seen == [(0, 8), (1, 8), (2, 8), (3, 8)]
    assert hook.round == 2 and [h['epoch'] for h in hook.history] == [0, 2]


def test_schedule(tmp_path):
    runner = _runner(str(tmp_path), max_epochs=5, epochs_per_round=None)
    hook, _ = _hooks(runner)
    with pytest.raises(ValueError, match='not divisible'):
        hook._check_schedule(runner)
    # The paper-like split: a long first stage, then short rounds (5 = 3 + 2 x 1).
    hook.initial_epochs = 3
    hook._check_schedule(runner)
    assert hook.epochs_per_round == 1
    assert [hook._stage(e) for e in range(5)] == [0, 0, 0, 1, 2]
    hook.initial_epochs, hook.epochs_per_round = 2, 2
    with pytest.raises(ValueError, match='must equal'):
        hook._check_schedule(runner)


def _synthetic_cfg(root, work_dir, resume_from=None):
    def loader(dataset, shuffle=False):
        return dict(batch_size=2, num_workers=0, dataset=dataset,
                    sampler=dict(type='DefaultSampler', shuffle=shuffle))

    labeled = dict(type='AVDeepfake1MDataset', data_root=root, num_samples=4,
                   subset_mode='first')
    testA = dict(type='AVDeepfake1MTestDataset', data_root=root, subset='testA')
    return Config(dict(
        default_scope='holaframe',
        work_dir=work_dir,
        model=tiny_model(),
        train_dataloader=loader(dict(labeled, subset='train',
                                     pipeline=tiny_pipeline(test_mode=False)), shuffle=True),
        val_dataloader=loader(dict(labeled, subset='val', test_mode=True,
                                   pipeline=tiny_pipeline())),
        val_evaluator=dict(type='VideoMetric'),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-4)),
        # A random tiny model is never 100% sure: a lower threshold makes pseudo-labels appear.
        custom_hooks=[dict(type='PseudoLabelHook', num_rounds=2, threshold=0.6,
                           unlabeled_dataloader=loader(dict(testA, pipeline=tiny_pipeline())),
                           train_dataset=dict(testA, pipeline=tiny_pipeline(test_mode=False)))],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        log_level='WARNING',
        resume=resume_from is not None,
        load_from=resume_from))


@pytest.mark.slow
def test_two_rounds_on_synthetic_data_and_resume(tmp_path, synthetic_avdf_root):
    register_all_modules(init_default_scope=False)
    runner = build_runner(_synthetic_cfg(synthetic_avdf_root, str(tmp_path / 'a')))
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    testA = [line.strip() for line in open(osp.join(synthetic_avdf_root, 'testA_files.txt'))]
    assert hook.round == 2 and [h['round'] for h in hook.history] == [1, 2]
    assert hook.labels and set(hook.labels) <= set(testA)
    assert len(runner.train_loop.dataloader.dataset) == 4 + len(hook.labels)
    for entry in hook.history:
        assert entry['num_real'] + entry['num_fake'] <= len(testA)
        assert entry['num_unlabeled'] == len(testA)
        assert entry['val_metric'] is not None  # validation AUC of the round's model

    # Resume from the end of stage 1: round 1 and its pseudo-labels come back, round 2 runs.
    with allow_mmengine_checkpoints():
        state = torch.load(osp.join(str(tmp_path / 'a'), 'epoch_2.pth'),
                           weights_only=True)['pseudo_label']
    resumed = build_runner(_synthetic_cfg(synthetic_avdf_root, str(tmp_path / 'b'),
                                          osp.join(str(tmp_path / 'a'), 'epoch_2.pth')))
    with allow_mmengine_checkpoints():
        resumed.train()
    hook2 = next(h for h in resumed.hooks if isinstance(h, PseudoLabelHook))
    assert state['round'] == 1
    assert hook2.history[0] == hook.history[0]
    assert hook2.round == 2 and len(hook2.history) == 2
