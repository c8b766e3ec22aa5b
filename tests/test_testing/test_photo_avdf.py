"""Tests of the talking-photograph generator: same layout and fields as the cartoon generator,
one real to three fakes, determinism, edits confined to the segments, shortcut audit, CLI."""

import json
import os.path as osp
import runpy

import decord
import numpy as np
import pytest

from holaframe.datasets import AVDeepfake1MDataset
from holaframe.testing import generate_photo_avdf, generate_synthetic_avdf, shortcut_aucs

FAKE_NAMES = {'real': 'real.mp4', 'audio_modified': 'real_video_fake_audio.mp4',
              'visual_modified': 'fake_video_real_audio.mp4',
              'both_modified': 'fake_video_fake_audio.mp4'}
SMALL = dict(frame_size=64, duration_range=(2.5, 4.0))


@pytest.fixture(scope='module')
def photo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('photo'))
    generate_photo_avdf(root, num_train=8, num_val=4, num_testA=3, num_testB=0, seed=0,
                        num_silent=1, silent_size=(72, 128), **SMALL)
    return root


@pytest.fixture(scope='module')
def cartoon_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cartoon'))
    generate_synthetic_avdf(root, num_train=4, num_val=2, num_testA=2, num_testB=0, seed=0,
                            num_silent=1, frame_size=64, silent_size=(72, 128),
                            duration_range=(2.5, 3.0))
    return root


def _types(meta):
    return {k: type(v) for k, v in meta.items()}


def test_layout_and_fields_match_the_cartoon_generator(photo_root, cartoon_root):
    for subset in ('train', 'val'):
        photo = json.load(open(osp.join(photo_root, f'{subset}_metadata.json')))
        cartoon = json.load(open(osp.join(cartoon_root, f'{subset}_metadata.json')))
        ref_real = next(m for m in cartoon if m['modify_type'] == 'real')
        ref_fake = next(m for m in cartoon if m['modify_type'] != 'real')
        for m in photo:
            ref = ref_real if m['modify_type'] == 'real' else ref_fake
            assert list(m) == list(ref)  # same keys in the same order
            assert _types(m) == _types(ref)
            assert m['split'] == subset
            assert osp.basename(m['file']) == FAKE_NAMES[m['modify_type']]
            assert json.load(open(osp.join(photo_root, subset, m['file'][:-4] + '.json'))) == m
            segs = m['fake_segments']
            assert (m['modify_type'] == 'real') == (not segs)
            for s, e in segs:
                assert isinstance(s, float) and s >= 0.5 and 0.2 - 1e-6 <= e - s <= 1.0 + 1e-6
                assert e <= m['video_frames'] / 25
            audio = m['modify_type'] in ('audio_modified', 'both_modified')
            visual = m['modify_type'] in ('visual_modified', 'both_modified')
            assert m['audio_fake_segments'] == (segs if audio else [])
            assert m['visual_fake_segments'] == (segs if visual else [])
            assert bool(m['audio_model']) == audio and bool(m['video_model']) == visual
            if m['modify_type'] != 'real':
                assert osp.dirname(m['original']) == osp.dirname(m['file'])
            if not m['file'].startswith('silent_videos/'):
                assert m['audio_frames'] == m['video_frames'] * 640
        talking = [m for m in photo if not m['file'].startswith('silent_videos/')]
        assert len(talking) == {'train': 8, 'val': 4}[subset]
    files = open(osp.join(photo_root, 'testA_files.txt')).read().split()
    assert len(files) == 3 and all(osp.isfile(osp.join(photo_root, 'testA', f)) for f in files)
    hidden = json.load(open(osp.join(photo_root, 'hidden_labels', 'testA_metadata.json')))
    assert [m['file'] for m in hidden] == files
    assert len(AVDeepfake1MDataset(data_root=photo_root, subset='train')) == 9


def test_one_real_to_three_fakes(photo_root):
    meta = json.load(open(osp.join(photo_root, 'train_metadata.json')))
    talking = [m for m in meta if not m['file'].startswith('silent_videos/')]
    types = [m['modify_type'] for m in talking]
    assert types.count('real') == 2
    for t in ('visual_modified', 'audio_modified', 'both_modified'):
        assert types.count(t) == 2
    # every fake's original is a real clip of the set, with the same duration
    reals = {m['file']: m for m in talking if m['modify_type'] == 'real'}
    for m in talking:
        if m['modify_type'] != 'real':
            assert reals[m['original']]['video_frames'] == m['video_frames']


def test_deterministic_per_seed(tmp_path):
    kw = dict(num_train=4, num_val=0, num_testA=1, num_testB=0, num_silent=0, **SMALL)
    a, b, c = (str(tmp_path / x) for x in 'abc')
    generate_photo_avdf(a, seed=3, **kw)
    generate_photo_avdf(b, seed=3, **kw)
    generate_photo_avdf(c, seed=4, **kw)
    ma = open(osp.join(a, 'train_metadata.json'), 'rb').read()
    assert ma == open(osp.join(b, 'train_metadata.json'), 'rb').read()
    assert ma != open(osp.join(c, 'train_metadata.json'), 'rb').read()
    for m in json.loads(ma):
        pa, pb = osp.join(a, 'train', m['file']), osp.join(b, 'train', m['file'])
        np.testing.assert_array_equal(decord.VideoReader(pa)[:].asnumpy(),
                                      decord.VideoReader(pb)[:].asnumpy())
        np.testing.assert_array_equal(
            decord.AudioReader(pa, sample_rate=16000, mono=True)[:].asnumpy(),
            decord.AudioReader(pb, sample_rate=16000, mono=True)[:].asnumpy())


def test_fakes_differ_from_their_original_only_inside_the_segments(photo_root):
    meta = json.load(open(osp.join(photo_root, 'train_metadata.json')))
    for m in meta:
        if m['modify_type'] == 'real':
            continue
        fake = osp.join(photo_root, 'train', m['file'])
        real = osp.join(photo_root, 'train', m['original'])
        fv = decord.VideoReader(fake)[:].asnumpy().astype(int)
        rv = decord.VideoReader(real)[:].asnumpy().astype(int)
        fa = decord.AudioReader(fake, sample_rate=16000, mono=True)[:].asnumpy()[0]
        ra = decord.AudioReader(real, sample_rate=16000, mono=True)[:].asnumpy()[0]
        inside = np.zeros(len(fv), bool)
        for s, e in m['fake_segments']:
            inside[int(round(s * 25)):int(round(e * 25))] = True
        margin = np.convolve(inside, np.ones(5), 'same') > 0
        vdiff = np.abs(fv - rv).mean(axis=(1, 2, 3))
        adiff = np.abs(fa - ra)[:len(inside) * 640].reshape(len(inside), 640).mean(1)
        first = int(np.argmax(inside))
        if m['modify_type'] == 'audio_modified':
            assert vdiff.max() < 1.0  # same frames, encoded twice
        else:  # the lower face was re-rendered inside; before the first edit (less the
            # encoder's 10-frame look-ahead) the frames are the same
            assert vdiff[inside].mean() > 2.0
            assert vdiff[:max(first - 12, 0)].max(initial=0) < 0.5
        if m['modify_type'] == 'visual_modified':
            assert adiff.max() < 1e-3
        else:
            assert adiff[inside].mean() > 5 * adiff[~margin].mean()


def test_cli(tmp_path, capsys):
    script = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'data', 'make_synthetic_avdf.py')
    cli = runpy.run_path(script)
    cli['main']([str(tmp_path / 'cli'), '--generator', 'photo', '--train', '4', '--val', '1',
                 '--testA', '1', '--testB', '0', '--silent', '0', '--frame-size', '64',
                 '--max-duration', '3'])
    assert 'train: 4' in capsys.readouterr().out
    meta = json.load(open(tmp_path / 'cli' / 'train_metadata.json'))
    assert [m['modify_type'] for m in meta] == ['real', 'visual_modified', 'audio_modified',
                                                'both_modified']
    assert all(m['video_frames'] <= 75 for m in meta)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='frame_size'):
        generate_photo_avdf(str(tmp_path), 1, 0, 0, 0, frame_size=63)
    with pytest.raises(ValueError, match='duration_range'):
        generate_photo_avdf(str(tmp_path), 1, 0, 0, 0, duration_range=(1.0, 3.0))


def test_shortcut_audit_passes(tmp_path):
    """Duration, loudness, leading loudness and file size tell real from fake no better than
    chance (AUC within 0.5 +- 0.1) on 48 clips (12 originals)."""
    root = str(tmp_path / 'audit')
    generate_photo_avdf(root, 48, 0, 0, 0, seed=7, num_silent=0, frame_size=64,
                        duration_range=(2.5, 4.0))
    aucs = shortcut_aucs(root, 'train')
    for name, auc in aucs.items():
        assert 0.4 <= auc <= 0.6, f'{name} separates the classes: AUC {auc:.3f}'
