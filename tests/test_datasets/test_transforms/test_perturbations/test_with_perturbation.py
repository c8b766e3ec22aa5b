"""Perturbations are placed right after the decoder they need, in a copied or wrapped pipeline;
the robustness-augmented demo config trains on perturbed clips."""

import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from holaframe.datasets.transforms.perturbations import (
    WithPerturbation,
    insert_after_decoding,
    parse_levels,
)
from holaframe.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))
PIPELINE = [dict(type='DecordInit'), dict(type='DenseSampleFrames', clip_len=8),
            dict(type='DecordDecode'), dict(type='MouthCrop', size=32),
            dict(type='AudioDecode', sample_rate=16000), dict(type='AudioFrameLogMel'),
            dict(type='PackAVInputs')]


def _types(pipeline):
    return [t['type'] for t in pipeline]


def test_video_and_audio_perturbations_go_after_their_decoder():
    out = insert_after_decoding(PIPELINE, [dict(type='VideoGaussianBlur', level=2),
                                           dict(type='AudioReverb', level=1),
                                           dict(type='holaframe.VideoH264Compression')])
    assert _types(out) == ['DecordInit', 'DenseSampleFrames', 'DecordDecode',
                           'VideoGaussianBlur', 'holaframe.VideoH264Compression', 'MouthCrop',
                           'AudioDecode', 'AudioReverb', 'AudioFrameLogMel', 'PackAVInputs']
    assert _types(PIPELINE)[3] == 'MouthCrop'  # the input is not changed
    both = insert_after_decoding(PIPELINE, dict(type='RandomPerturbation'))
    assert [i for i, t in enumerate(both) if t['type'] == 'RandomPerturbation'] == [3, 6]
    video_only = insert_after_decoding(
        PIPELINE, dict(type='RandomPerturbation', perturbations=['jpeg', 'h264']))
    assert _types(video_only).count('RandomPerturbation') == 1


def test_a_missing_decoder_is_named():
    no_audio = [t for t in PIPELINE if t['type'] not in ('AudioDecode', 'AudioFrameLogMel')]
    with pytest.raises(ValueError, match=r'my.py: AudioMP3Compression perturbs the audio but '
                       r'the pipeline has no AudioDecode: \[.DecordInit'):
        insert_after_decoding(no_audio, dict(type='AudioMP3Compression', level=1), 'my.py')
    with pytest.raises(ValueError, match='MouthCrop is not a perturbation'):
        insert_after_decoding(PIPELINE, dict(type='MouthCrop'))
    with pytest.raises(ValueError, match='needs a perturbation config'):
        WithPerturbation(PIPELINE)


@pytest.mark.parametrize('spec,levels', [('1-5', [1, 2, 3, 4, 5]), ('5,1, 3', [1, 3, 5]),
                                         ('2', [2]), ([4, 4, 2], [2, 4])])
def test_level_specs(spec, levels):
    assert parse_levels(spec) == levels


@pytest.mark.parametrize('spec', ['0-5', '6', 'a', '3-1', '', [7]])
def test_bad_level_specs_list_the_valid_levels(spec):
    with pytest.raises(ValueError, match=r'levels are integers 1\.\.5'):
        parse_levels(spec)


def test_augmented_demo_config_trains_on_perturbed_clips(synthetic_avdf_root):
    from holaframe.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/hola/hola-dense-perturbaug_tiny_1xb8-10min_synthetic.py'))
    base = Config.fromfile(osp.join(REPO, 'configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py'))
    (wrapper, ) = cfg.train_dataloader.dataset.pipeline
    assert wrapper['pipeline'] == base.train_dataloader.dataset.pipeline  # inherited, not copied
    assert cfg.val_dataloader.dataset.pipeline == base.val_dataloader.dataset.pipeline
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg['data_root'] = synthetic_avdf_root
    wrapper = dataset_cfg['pipeline'][0]
    wrapper['perturbation']['prob'] = 1.0  # every sample perturbed, for the check
    dataset = DATASETS.build(dataset_cfg)
    names = [type(t).__name__ for t in dataset.pipeline.transforms[0].transforms]
    assert names.index('RandomPerturbation') == names.index('DecordDecode') + 1
    np.random.seed(0)
    applied = []
    for idx in range(3):
        results = dataset.get_data_info(idx)
        for transform in dataset.pipeline.transforms[0].transforms[:-1]:  # all but packing
            results = transform(results)
        assert results['random_perturbation']['applied']
        applied += results['perturbations']
    assert len(applied) == 3
    data = dataset[0]
    assert set(data['inputs']) == {'video', 'audio'}
