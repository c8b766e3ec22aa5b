"""DeepfakeVisualizationHook: records predictions during testing, writes the plots after."""

import types

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.visualization import Visualizer
from PIL import Image

from holaframe.apis.evaluator_setup import add_show_dir, leading_silence_audit_cfg
from holaframe.engine.hooks import DeepfakeVisualizationHook
from holaframe.registry import HOOKS
from holaframe.structures import AVDataSample


def _sample(i, label, score, modify_type, frame_scores=None):
    sample = AVDataSample(metainfo=dict(file=f'sub/clip_{i}.mp4', modify_type=modify_type,
                                        frame_inds=np.arange(0, 100, 10),
                                        fake_segments=[[1.0, 2.0]] if label else []))
    sample.set_gt_label(label).set_pred_score(score)
    if frame_scores is not None:
        sample.pred_frame_scores = torch.tensor(frame_scores)
    return sample


def _runner(tmp_path, visualizer=None):
    return types.SimpleNamespace(work_dir=str(tmp_path), timestamp='20260101_000000',
                                 experiment_name='t', visualizer=visualizer)


def test_hook_writes_roc_histograms_and_timelines(tmp_path):
    hook = HOOKS.build(dict(type='DeepfakeVisualizationHook', out_dir=str(tmp_path / 'plots'),
                            max_timelines=1))
    runner = _runner(tmp_path, Visualizer(name='hook_test_plain'))
    hook.before_test_epoch(runner)
    batch = [_sample(0, 0, 0.2, 'real'), _sample(1, 1, 0.9, 'visual_modified', [0.1, 0.9, 0.8]),
             _sample(2, 1, 0.6, 'audio_modified', [0.5, 0.5])]
    hook.after_test_iter(runner, 0, None, batch)
    hook.after_test_iter(runner, 1, None, batch[:1])  # a padded duplicate of clip 0
    records = list(hook._records)
    assert len(records) == 4 and sum('frame_scores' in r for r in records) == 1
    timeline = next(r for r in records if 'frame_scores' in r)
    # three positions over frames 0..90 at 25 fps: 0 s, 1.8 s and 3.6 s.
    assert np.allclose(timeline['times'], [0.0, 1.8, 3.6])
    assert timeline['fake_segments'] == [[1.0, 2.0]]
    hook.after_test_epoch(runner, {})
    plots = tmp_path / 'plots'
    assert sorted(p.name for p in plots.iterdir()) == ['roc.png', 'score_histograms.png',
                                                       'timelines']
    assert [p.name for p in (plots / 'timelines').iterdir()] == ['sub_clip_1.png']
    assert Image.open(plots / 'roc.png').size == (450, 450)
    assert hook._records == []


def test_hook_without_both_classes_skips_the_roc(tmp_path):
    hook = DeepfakeVisualizationHook()
    runner = _runner(tmp_path)
    hook.after_test_iter(runner, 0, None, [_sample(0, 1, 0.7, 'visual_modified')])
    hook.after_test_epoch(runner)
    plots = tmp_path / '20260101_000000' / 'plots'
    assert sorted(p.name for p in plots.iterdir()) == ['score_histograms.png']


def test_hook_rejects_bad_arguments():
    with pytest.raises(ValueError, match='max_timelines'):
        DeepfakeVisualizationHook(max_timelines=-1)
    with pytest.raises(ValueError, match='fps'):
        DeepfakeVisualizationHook(fps=0)


def test_show_dir_config_edit(tmp_path):
    cfg = Config(dict(visualizer=dict(type='Visualizer', vis_backends=[dict(
        type='LocalVisBackend')]), default_hooks=dict(timer=dict(type='IterTimerHook')),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='UniformSampleFrames'), dict(type='DecordDecode'),
            dict(type='AudioDecode')])),
        test_evaluator=dict(type='VideoMetric')))
    add_show_dir(cfg, str(tmp_path / 'show'), max_timelines=3)
    assert cfg.visualizer.type == 'DeepfakeVisualizer'
    assert cfg.visualizer.vis_backends == [dict(type='LocalVisBackend')]
    assert cfg.default_hooks.visualization == dict(
        type='DeepfakeVisualizationHook', out_dir=str(tmp_path / 'show'), max_timelines=3)
    assert cfg.default_hooks.timer.type == 'IterTimerHook'
    audit = leading_silence_audit_cfg(cfg, str(tmp_path))
    assert audit.default_hooks.visualization.out_dir == str(tmp_path / 'show' / 'trimmed')
    custom = Config(dict(visualizer=dict(type='MyVisualizer')))
    assert add_show_dir(custom, 'x').visualizer.type == 'MyVisualizer'
