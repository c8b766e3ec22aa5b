"""Tests of the AV-Deepfake1M(++) datasets, the pre-training dataset and bad-sample handling."""

import json
import os
import os.path as osp
import shutil

import pytest
import torch

from holaframe.datasets import (
    AVDeepfake1MDataset,
    AVDeepfake1MTestDataset,
    AVVideoDataset,
    BadSampleError,
)
from holaframe.registry import DATASETS
from holaframe.testing import make_indexed_clip

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=4, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='AudioDecode'),
    dict(type='AudioMFCCSegments'),
    dict(type='PackAVInputs'),
]

ENTRIES = [
    dict(file='vox_celeb_2/id00012/21Uxsk56VDQ/00001/real.mp4', original=None, split='train',
         modify_type='real', audio_model='', video_model='', fake_segments=[],
         audio_fake_segments=[], visual_fake_segments=[], video_frames=30, audio_frames=19200),
    dict(file='vox_celeb_2/id00012/21Uxsk56VDQ/00001/fake_video_real_audio.mp4',
         original='vox_celeb_2/id00012/21Uxsk56VDQ/00001/real.mp4', split='train',
         modify_type='visual_modified', audio_model='', video_model='LatentSync',
         fake_segments=[[0.6, 0.9]], audio_fake_segments=[], visual_fake_segments=[[0.6, 0.9]],
         video_frames=30, audio_frames=19200),
    dict(file='lrs3/abc/00002/real_video_fake_audio.mp4', original='lrs3/abc/00002/real.mp4',
         split='train', modify_type='audio_modified', audio_model='F5TTS', video_model='',
         fake_segments=[[0.4, 0.6], [0.8, 1.0]], audio_fake_segments=[[0.4, 0.6], [0.8, 1.0]],
         visual_fake_segments=[], video_frames=30, audio_frames=19200),
    dict(file='silent_videos/xyz/00003/real.mp4', original=None, split='train',
         modify_type='real', audio_model='', video_model='', fake_segments=[],
         audio_fake_segments=[], visual_fake_segments=[], video_frames=30, audio_frames=0),
]


def _write_videos(root, subset):
    for e in ENTRIES:
        make_indexed_clip(osp.join(root, subset, e['file']), 30, audio='silent' not in e['file'])


@pytest.fixture(scope='module')
def pp_root(tmp_path_factory):
    """A hand-made AV-Deepfake1M++ layout: list metadata, per-file JSON, test file lists."""
    root = str(tmp_path_factory.mktemp('avdf_pp'))
    for subset in ('train', 'testA'):
        _write_videos(root, subset)
    with open(osp.join(root, 'train_metadata.json'), 'w') as f:
        json.dump(ENTRIES, f)
    for e in ENTRIES:
        with open(osp.join(root, 'train', e['file'][:-4] + '.json'), 'w') as f:
            json.dump(e, f)
    order = [ENTRIES[2]['file'], ENTRIES[0]['file'], ENTRIES[3]['file'], ENTRIES[1]['file']]
    with open(osp.join(root, 'testA_files.txt'), 'w') as f:
        f.write('\n'.join(order) + '\n')
    return root


@pytest.fixture(scope='module')
def v1_root(tmp_path_factory, pp_root):
    """A hand-made AV-Deepfake1M (v1) layout: per-file JSON under {subset}_metadata/."""
    root = str(tmp_path_factory.mktemp('avdf_v1'))
    shutil.copytree(osp.join(pp_root, 'train'), osp.join(root, 'val'),
                    ignore=shutil.ignore_patterns('*.json'))
    for e in ENTRIES:
        e = {k: v for k, v in e.items() if k != 'video_model'}  # v1 has no video_model
        path = osp.join(root, 'val_metadata', e['file'][:-4] + '.json')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(e, f)
    shutil.copytree(osp.join(pp_root, 'testA'), osp.join(root, 'test'))
    shutil.copy(osp.join(pp_root, 'testA_files.txt'), osp.join(root, 'test_files.txt'))
    return root


def test_pp_layout_labels_and_metainfo(pp_root):
    ds = DATASETS.build(dict(type='AVDeepfake1MDataset', data_root=pp_root, subset='train',
                             pipeline=PIPELINE, test_mode=True))
    assert len(ds) == 4
    infos = [ds.get_data_info(i) for i in range(4)]
    assert [i['gt_label'] for i in infos] == [0, 1, 1, 0]
    assert [i['file'] for i in infos] == [e['file'] for e in ENTRIES]
    assert infos[1]['video_model'] == 'LatentSync' and infos[2]['audio_model'] == 'F5TTS'
    assert infos[2]['fake_segments'] == [[0.4, 0.6], [0.8, 1.0]]
    assert infos[1]['visual_fake_segments'] == [[0.6, 0.9]]
    out = ds[2]
    sample = out['data_samples']
    assert sample.gt_label.tolist() == [1] and sample.file == ENTRIES[2]['file']
    assert sample.modify_type == 'audio_modified' and sample.subset == 'train'
    assert sample.filename == osp.join(pp_root, 'train', ENTRIES[2]['file'])
    assert sample.sample_idx == 2 and sample.has_audio is True
    assert out['inputs']['video'].shape == (3, 4, 32, 32)
    assert out['inputs']['audio'].shape == (4, 32)
    silent = ds[3]
    assert silent['data_samples'].has_audio is False
    assert torch.isfinite(silent['inputs']['audio']).all()


def test_v1_layout(v1_root, pp_root):
    ds = AVDeepfake1MDataset(data_root=v1_root, subset='val', pipeline=PIPELINE)
    pp = AVDeepfake1MDataset(data_root=pp_root, subset='train')
    assert len(ds) == 4
    by_file = {ds.get_data_info(i)['file']: ds.get_data_info(i) for i in range(4)}
    for i in range(4):
        ref = pp.get_data_info(i)
        info = by_file[ref['file']]
        assert info['gt_label'] == ref['gt_label']
        assert info['fake_segments'] == ref['fake_segments']
        assert info['video_model'] == ''  # absent in v1
    assert ds[0]['inputs']['video'].shape == (3, 4, 32, 32)
    with pytest.raises(FileNotFoundError, match='no metadata'):
        AVDeepfake1MDataset(data_root=v1_root, subset='train')


def test_subset_by_count_and_fraction(pp_root):
    ds = AVDeepfake1MDataset(data_root=pp_root, subset='train', num_samples=2)
    assert len(ds) == 2
    again = AVDeepfake1MDataset(data_root=pp_root, subset='train', num_samples=2)
    assert [ds.get_data_info(i)['file'] for i in range(2)] == \
        [again.get_data_info(i)['file'] for i in range(2)]
    assert len(AVDeepfake1MDataset(data_root=pp_root, subset='train', num_samples=0.5)) == 2
    first = AVDeepfake1MDataset(data_root=pp_root, subset='train', num_samples=3,
                                subset_mode='first')
    assert [first.get_data_info(i)['file'] for i in range(3)] == [e['file'] for e in ENTRIES[:3]]
    with pytest.raises(ValueError, match='fraction'):
        AVDeepfake1MDataset(data_root=pp_root, subset='train', num_samples=1.5)


def test_unlabeled_test_subset_keeps_list_order(pp_root, v1_root):
    order = open(osp.join(pp_root, 'testA_files.txt')).read().split()
    ds = AVDeepfake1MTestDataset(data_root=pp_root, subset='testA', pipeline=PIPELINE)
    assert [ds.get_data_info(i)['file'] for i in range(len(ds))] == order
    out = ds[0]
    assert out['data_samples'].gt_label.tolist() == [-1]
    assert out['data_samples'].file == order[0]
    assert len(AVDeepfake1MTestDataset(data_root=pp_root, subset='testA', num_samples=2)) == 2
    v1 = AVDeepfake1MTestDataset(data_root=v1_root, subset='test')
    assert [v1.get_data_info(i)['file'] for i in range(len(v1))] == order


def test_pretrain_video_dataset_glob_and_list(pp_root, tmp_path):
    root = osp.join(pp_root, 'train')
    ds = AVVideoDataset(data_root=root, pipeline=[
        dict(type='DecordInit'), dict(type='SampleClipFrames', clip_len=4, frame_interval=2),
        dict(type='DecordDecode'), dict(type='AudioDecode'), dict(type='AudioFbank'),
        dict(type='PackAVInputs')])
    assert len(ds) == 4
    assert [ds.get_data_info(i)['file'] for i in range(4)] == sorted(e['file'] for e in ENTRIES)
    out = ds[0]
    assert out['inputs']['audio'].shape == (1, 256, 128)
    assert out['data_samples'].gt_label.tolist() == [-1]
    lst = tmp_path / 'list.txt'
    lst.write_text(f'{ENTRIES[1]["file"]} 100\n\n{ENTRIES[0]["file"]}\n')
    ds = AVVideoDataset(data_root=root, list_file=str(lst))
    assert [ds.get_data_info(i)['file'] for i in range(2)] == [ENTRIES[1]['file'],
                                                              ENTRIES[0]['file']]
    with pytest.raises(FileNotFoundError, match='no video matches'):
        AVVideoDataset(data_root=str(tmp_path), pattern='*.mp4')


# ----------------------------------------------------------------------------- bad samples
@pytest.fixture
def bad_root(tmp_path, pp_root):
    """++ layout whose entries 1-3 are broken (empty file, missing file, text file)."""
    root = str(tmp_path / 'bad')
    shutil.copytree(pp_root, root)
    open(osp.join(root, 'train', ENTRIES[1]['file']), 'wb').close()
    os.remove(osp.join(root, 'train', ENTRIES[2]['file']))
    with open(osp.join(root, 'train', ENTRIES[3]['file']), 'w') as f:
        f.write('not a video')
    return root


def test_bad_samples_raise_clear_errors(bad_root):
    ds = AVDeepfake1MDataset(data_root=bad_root, subset='train', pipeline=PIPELINE)
    assert ds[0]['data_samples'].gt_label.tolist() == [0]
    for idx, what in ((1, 'zero-byte'), (2, 'not found'), (3, 'cannot decode')):
        with pytest.raises(BadSampleError) as exc:
            ds[idx]
        assert str(exc.value).startswith(osp.join(bad_root, 'train', ENTRIES[idx]['file']))
        assert what in str(exc.value)


def test_skip_bad_samples_records_them_and_goes_on(bad_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    ds = AVDeepfake1MDataset(data_root=bad_root, subset='train', pipeline=PIPELINE,
                             skip_bad_samples=True, work_dir=work_dir)
    for idx in range(4):
        out = ds[idx]
        assert out['data_samples'].file == ENTRIES[0]['file']  # the only good sample
    ds[2]  # remembered: not read (nor recorded) again
    lines = open(osp.join(work_dir, 'bad_samples.txt')).read().splitlines()
    assert len(lines) == 3
    recorded = [line.split('\t')[0] for line in lines]
    assert recorded == [osp.join(bad_root, 'train', e['file']) for e in ENTRIES[1:]]
    assert 'zero-byte' in lines[0] and 'not found' in lines[1]


def test_skip_bad_samples_in_test_mode_gives_one_placeholder_per_clip(bad_root, tmp_path):
    """Evaluation must see every clip once: an unreadable clip becomes a placeholder for that
    clip (zero inputs, its own file and sample_idx, load_error), never a copy of a neighbour."""
    ds = AVDeepfake1MDataset(data_root=bad_root, subset='train', pipeline=PIPELINE,
                             skip_bad_samples=True, test_mode=True,
                             work_dir=str(tmp_path / 'work'))
    good = ds[0]
    assert good['data_samples'].metainfo.get('load_error') is None
    for idx, what in ((1, 'zero-byte'), (2, 'not found'), (3, 'cannot decode')):
        for _ in range(2):  # the second access uses the remembered reason
            out = ds[idx]
            sample = out['data_samples']
            assert sample.file == ENTRIES[idx]['file'] and sample.sample_idx == idx
            assert what in sample.load_error
            assert sample.has_audio is False
            for key, value in out['inputs'].items():
                assert value.shape == good['inputs'][key].shape, key
                assert value.dtype == good['inputs'][key].dtype and not value.any(), key
    assert len(open(tmp_path / 'work' / 'bad_samples.txt').read().splitlines()) == 3


def test_transform_error_is_wrapped_with_the_file(pp_root):
    ds = AVDeepfake1MDataset(data_root=pp_root, subset='train', pipeline=[
        dict(type='DecordInit'), dict(type='UniformSampleFrames', num_frames=4),
        dict(type='DecordDecode'), dict(type='VideoCenterCrop', crop_size=64)])
    with pytest.raises(BadSampleError, match=r'real\.mp4: ValueError: .*crop'):
        ds[0]


def test_metadata_missing_field(tmp_path, pp_root):
    root = str(tmp_path / 'meta')
    shutil.copytree(pp_root, root)
    entries = json.loads(json.dumps(ENTRIES))
    del entries[2]['fake_segments']
    meta = osp.join(root, 'train_metadata.json')
    with open(meta, 'w') as f:
        json.dump(entries, f)
    with pytest.raises(BadSampleError) as exc:
        AVDeepfake1MDataset(data_root=root, subset='train')
    msg = str(exc.value)
    assert msg.startswith(meta) and 'fake_segments' in msg and ENTRIES[2]['file'] in msg
    bad_list = str(tmp_path / 'bad.txt')
    ds = AVDeepfake1MDataset(data_root=root, subset='train', skip_bad_samples=True,
                             bad_samples_file=bad_list)
    assert len(ds) == 3
    assert 'fake_segments' in open(bad_list).read()


def test_bad_sample_list_defaults_to_runner_work_dir(bad_root, tmp_path):
    from mmengine.logging import MMLogger
    work_dir = tmp_path / 'runner_work_dir'
    log_file = work_dir / '20260101_000000' / '20260101_000000.log'
    log_file.parent.mkdir(parents=True)
    MMLogger.get_instance('avdf_test_logger', log_file=str(log_file))
    ds = AVDeepfake1MDataset(data_root=bad_root, subset='train', pipeline=PIPELINE,
                             skip_bad_samples=True)
    ds[1]
    assert ds.bad_samples_file == osp.join(str(work_dir), 'bad_samples.txt')
    assert osp.isfile(ds.bad_samples_file)
