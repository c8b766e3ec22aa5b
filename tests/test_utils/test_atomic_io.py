"""Atomic outputs: every file appears by renaming a complete temporary file."""

import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from holaframe.evaluation.submission import read_submission, write_submission
from holaframe.utils.atomic_io import (
    ATOMIC_BACKEND,
    atomic_open,
    atomic_replace_dir,
    atomic_torch_save,
)


@pytest.fixture
def renames(monkeypatch):
    """Record every ``os.replace`` with the content of its source at that moment."""
    seen = []
    real = os.replace

    def spy(src, dst, *args, **kwargs):
        content = open(src, 'rb').read() if osp.isfile(src) else None
        seen.append((str(src), str(dst), content))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, 'replace', spy)
    return seen


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'metrics.json'
    path.write_text('{"old": 1}')
    with pytest.raises(RuntimeError, match='crash'):
        with atomic_open(path) as f:
            f.write('{"new": ')
            raise RuntimeError('crash in the middle of writing')
    assert path.read_text() == '{"old": 1}'
    assert os.listdir(tmp_path) == ['metrics.json']  # no temporary file left


def test_submission_appears_complete(tmp_path, renames):
    out = tmp_path / 'sub' / 'submission.txt'
    write_submission(str(out), [('a.mp4', 0.25), ('b.mp4', 1.0)])
    assert read_submission(str(out)) == [('a.mp4', 0.25), ('b.mp4', 1.0)]
    assert [(dst, content) for _, dst, content in renames] == [
        (str(out), b'a.mp4;0.25\nb.mp4;1.0\n')]
    assert renames[0][0] != str(out)


def test_torch_save_and_folder_replacement(tmp_path, renames):
    atomic_torch_save(dict(w=torch.ones(2)), tmp_path / 'x.pth')
    assert torch.equal(torch.load(tmp_path / 'x.pth', weights_only=True)['w'], torch.ones(2))
    assert renames and renames[-1][1] == str(tmp_path / 'x.pth')
    old, new = tmp_path / 'epoch_1.pth', tmp_path / 'new'
    old.mkdir()
    (old / 'stale').write_text('old')
    new.mkdir()
    (new / 'shard').write_text('new')
    atomic_replace_dir(new, old)
    assert sorted(os.listdir(old)) == ['shard'] and not new.exists()
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth', 'x.pth']


def test_runner_checkpoints_and_metrics_are_renamed_into_place(tmp_path, renames):
    import holaframe.testing.distributed  # noqa: F401 - registers the toy model and data
    from holaframe.engine.runner import build_runner
    cfg = Config(dict(
        default_scope='holaframe',
        work_dir=str(tmp_path),
        experiment_name='atomic_ckpt',
        model=dict(type='DistToyDetector', data_preprocessor=dict(type='AVDataPreprocessor')),
        train_dataloader=dict(batch_size=2, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              dataset=dict(type='DistToyDataset', num_samples=4)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING'))
    runner = build_runner(cfg)
    assert cfg.default_hooks.checkpoint.backend_args == dict(backend=ATOMIC_BACKEND)
    runner.train()
    ckpt = str(tmp_path / 'epoch_1.pth')
    moved = [(src, content) for src, dst, content in renames if dst == ckpt]
    assert len(moved) == 1 and moved[0][0] != ckpt
    assert moved[0][1] == open(ckpt, 'rb').read()


def test_scores_file_of_video_metric(tmp_path, renames):
    from holaframe.evaluation import VideoMetric
    from holaframe.structures import AVDataSample
    metric = VideoMetric(scores_file=str(tmp_path / 'scores.jsonl'))
    samples = []
    for i, (label, score) in enumerate([(0, 0.1), (1, 0.9), (1, 0.6), (0, 0.3)]):
        s = AVDataSample(metainfo=dict(file=f'{i}.mp4', sample_idx=i))
        s.set_gt_label(label)
        s.set_pred_score(torch.tensor(score))
        samples.append(s.to_dict())
    metric.process({}, samples)
    metric.compute_metrics(metric.results)
    rows = [json.loads(x) for x in (tmp_path / 'scores.jsonl').read_text().splitlines()]
    assert len(rows) == 4
    assert [dst for _, dst, _ in renames] == [str(tmp_path / 'scores.jsonl')]
