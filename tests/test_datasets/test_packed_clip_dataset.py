"""PackedClipDataset: training from the decoded-clip cache gives the batches of the videos."""

import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from holaframe.datasets import AVDeepfake1MDataset, BadSampleError, PackedClipDataset
from holaframe.datasets.clip_cache import plan_cache
from holaframe.datasets.clip_packing import pack_dataset
from holaframe.testing import generate_synthetic_avdf

# Small versions of the repository's pipelines (configs/_base_/datasets, configs/hola).
DENSE_TRAIN = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=16, fake_centred_prob=0.5),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=24),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]
PAPER_TRAIN = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=8, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=40),
    dict(type='VideoRandomCrop', crop_size=32),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]
# The pre-training recipe: AudioDecode(window) is cut from the cached whole track.
PRETRAIN = [
    dict(type='DecordInit'),
    dict(type='SampleClipFrames', clip_len=8, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, window=0.655),
    dict(type='AudioFbank', num_mel_bins=64, target_length=64),
    dict(type='PackAVInputs'),
]
# Deterministic sampling: only the sampled frames and the MFCC features are cached.
PAPER_TEST = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=8, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=40),
    dict(type='VideoCenterCrop', crop_size=32),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]
PIPELINES = dict(dense=DENSE_TRAIN, paper=PAPER_TRAIN, pretrain=PRETRAIN, test=PAPER_TEST,
                 # the waveform itself as the audio input: zeros before the window, as decoded
                 window_waveform=[t for t in PRETRAIN if t['type'] != 'AudioFbank'])


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    """6 train clips (one silent, 96x128) and 4 val clips of 2.5-3 s at 64 px."""
    root = str(tmp_path_factory.mktemp('packed_avdf'))
    generate_synthetic_avdf(root, num_train=5, num_val=3, num_testA=0, num_testB=0, seed=0,
                            num_silent=1, duration_range=(2.5, 3.0), frame_size=64,
                            silent_size=(96, 128))
    return root


def _video_dataset(root, pipeline, subset='train', **kwargs):
    return AVDeepfake1MDataset(data_root=root, subset=subset, pipeline=pipeline, **kwargs)


def _pack(root, pipeline, out_dir, subset='train', shard_size=2):
    source = dict(type='AVDeepfake1MDataset', data_root=root, subset=subset)
    return pack_dataset(_video_dataset(root, [], subset), pipeline, str(out_dir),
                        shard_size=shard_size, progress=False, source=source)


def _batches(dataset, seed, epochs=2):
    loader = Runner.build_dataloader(
        dict(batch_size=2, num_workers=1, sampler=dict(type='DefaultSampler', shuffle=True),
             collate_fn=dict(type='pseudo_collate'), dataset=dataset), seed=seed)
    out = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        out += list(loader)
    return out


def _assert_same_batches(a, b):
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        for key in ('video', 'audio'):
            assert all(torch.equal(u, v) and u.dtype == v.dtype
                       for u, v in zip(x['inputs'][key], y['inputs'][key])), key
        for u, v in zip(x['data_samples'], y['data_samples']):
            assert u.metainfo == v.metainfo
            assert int(u.gt_label) == int(v.gt_label)
            if 'frame_labels' in u:
                assert torch.equal(u.frame_labels, v.frame_labels)


@pytest.mark.parametrize('name', list(PIPELINES))
def test_batches_from_the_cache_equal_batches_from_the_videos(tiny_root, tmp_path, name):
    pipeline = PIPELINES[name]
    subset = 'val' if name == 'test' else 'train'
    summary = _pack(tiny_root, pipeline, tmp_path / 'pack', subset)
    assert summary['failed'] == 0 and summary['packed'] == summary['clips'] >= 4
    videos = _video_dataset(tiny_root, pipeline, subset)
    packed = PackedClipDataset(str(tmp_path / 'pack'), pipeline=pipeline)
    assert len(packed) == len(videos)
    from_videos = _batches(videos, seed=0)
    _assert_same_batches(from_videos, _batches(packed, seed=0))
    if name != 'test':  # the comparison can fail: the random steps do change the batches
        other = _batches(packed, seed=1)
        assert any(not torch.equal(u, v) for x, y in zip(from_videos, other)
                   for u, v in zip(x['inputs']['video'], y['inputs']['video']))


def test_what_is_cached_follows_the_sampler(tiny_root, tmp_path):
    train = plan_cache(PAPER_TRAIN)
    assert train.frames == 'all' and train.framewise == (3,) and train.audio == 6
    assert train.features == () and train.audio_key == 'waveform'
    test = plan_cache(PAPER_TEST)
    assert test.frames == 'sampled' and test.framewise == (3, 4) and test.features == (6,)
    assert test.audio_key == 'audio' and 1 in test.cached and 1 not in train.cached
    _pack(tiny_root, PAPER_TEST, tmp_path / 'test', 'val')
    index = json.loads((tmp_path / 'test' / 'index.json').read_text())
    arrays = index['clips'][0]['arrays']
    assert arrays['imgs']['shape'] == [8, 32, 32, 3] and arrays['audio']['shape'] == [8, 32]
    assert 'waveform' not in arrays


def test_a_pipeline_the_cache_cannot_hold_is_refused():
    with pytest.raises(ValueError, match='starts with DecordInit'):
        plan_cache(PAPER_TRAIN[2:])
    odd = PAPER_TRAIN[:4] + [dict(type='FrameFakeMask')] + PAPER_TRAIN[6:]
    with pytest.raises(ValueError, match='cannot cache AudioDecode .* after FrameFakeMask'):
        plan_cache(odd)


def test_missing_index_truncated_shard_and_other_config_are_named(tiny_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r'index\.json: no pack index; pack the dataset'):
        PackedClipDataset(str(tmp_path / 'nothing'), pipeline=DENSE_TRAIN)
    pack = tmp_path / 'pack'
    _pack(tiny_root, DENSE_TRAIN, pack)
    other = [dict(t, size=32) if t['type'] == 'MouthCrop' else t for t in DENSE_TRAIN]
    with pytest.raises(ValueError, match=r'packed for another config.*MouthCrop.*size=24.*'
                       r'MouthCrop.*size=32'):
        PackedClipDataset(str(pack), pipeline=other)
    with pytest.raises(ValueError, match="packed with frames='all'.*needs frames='sampled'"):
        PackedClipDataset(str(pack), pipeline=[
            dict(t, test_mode=True) if t['type'] == 'DenseSampleFrames' else t
            for t in DENSE_TRAIN])
    source = dict(type='AVDeepfake1MDataset', data_root='elsewhere', subset='train')
    with pytest.raises(ValueError, match='packed from the dataset'):
        PackedClipDataset(str(pack), pipeline=DENSE_TRAIN, source=source)
    # A different sampler config is fine: the sampler runs on every read.
    longer = [dict(t, clip_len=32) if t['type'] == 'DenseSampleFrames' else t
              for t in DENSE_TRAIN]
    assert PackedClipDataset(str(pack), pipeline=longer)[0]['inputs']['video'].shape[1] == 32
    shard = pack / 'shards' / 'shard-000001.bin'
    with open(shard, 'r+b') as f:
        f.truncate(os.path.getsize(shard) - 100)
    with pytest.raises(ValueError, match=r'shard-000001\.bin: shard 1 is \d+ bytes but the '
                       r'index says \d+'):
        PackedClipDataset(str(pack), pipeline=DENSE_TRAIN)
    os.remove(shard)
    with pytest.raises(FileNotFoundError, match=r'shard-000001\.bin: shard 1 .* is missing'):
        PackedClipDataset(str(pack), pipeline=DENSE_TRAIN)
    # num_samples keeps only some clips: only their shards must be there.
    assert len(PackedClipDataset(str(pack), pipeline=DENSE_TRAIN, num_samples=2,
                                 subset_mode='first')) == 2


def test_clip_that_could_not_be_packed_is_a_bad_sample(tiny_root, tmp_path):
    pipeline = [dict(t, no_audio='error') if t['type'] == 'AudioDecode' else t
                for t in DENSE_TRAIN]  # the silent clip fails
    summary = _pack(tiny_root, pipeline, tmp_path / 'pack')
    assert summary['failed'] == 1
    errors = (tmp_path / 'pack' / 'errors.txt').read_text().splitlines()
    assert len(errors) == 1 and 'no audio stream' in errors[0]
    packed = PackedClipDataset(str(tmp_path / 'pack'), pipeline=pipeline)
    videos = _video_dataset(tiny_root, pipeline)
    bad = next(i for i in range(len(packed)) if packed.get_data_info(i)['pack_error'])
    with pytest.raises(BadSampleError, match='no audio stream'):
        packed[bad]
    kwargs = dict(skip_bad_samples=True, bad_samples_file=str(tmp_path / 'bad.txt'))
    packed = PackedClipDataset(str(tmp_path / 'pack'), pipeline=pipeline, **kwargs)
    videos = _video_dataset(tiny_root, pipeline, **kwargs)
    np.random.seed(3)
    a = packed[bad]
    np.random.seed(3)
    b = videos[bad]
    assert a['data_samples'].file == b['data_samples'].file != packed.get_data_info(bad)['file']
    assert torch.equal(a['inputs']['video'], b['inputs']['video'])
    assert osp.isfile(tmp_path / 'bad.txt')
