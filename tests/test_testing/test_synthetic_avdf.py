"""Tests of the synthetic AV-Deepfake1M++ generator: layout, fields, determinism, shortcuts."""

import json
import os.path as osp
import runpy

import av
import decord
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from holaframe.datasets import AVDeepfake1MDataset, AVDeepfake1MTestDataset
from holaframe.testing import generate_synthetic_avdf

FIELDS = {'file', 'original', 'split', 'modify_type', 'audio_model', 'video_model',
          'fake_segments', 'audio_fake_segments', 'visual_fake_segments', 'video_frames',
          'audio_frames'}
FAKE_NAMES = {'real': 'real.mp4', 'audio_modified': 'real_video_fake_audio.mp4',
              'visual_modified': 'fake_video_real_audio.mp4',
              'both_modified': 'fake_video_fake_audio.mp4'}


def test_layout_and_metadata_fields(synthetic_avdf_root):
    root = synthetic_avdf_root
    for subset, n in (('train', 16), ('val', 8)):
        meta = json.load(open(osp.join(root, f'{subset}_metadata.json')))
        silent = [m for m in meta if m['file'].startswith('silent_videos/')]
        assert len(meta) - len(silent) == n and len(silent) >= 1
        for m in meta:
            assert set(m) == FIELDS
            assert m['split'] == subset
            assert osp.basename(m['file']) == FAKE_NAMES[m['modify_type']]
            assert json.load(open(osp.join(root, subset, m['file'][:-4] + '.json'))) == m
            segs = m['fake_segments']
            assert (m['modify_type'] == 'real') == (len(segs) == 0)
            assert len(segs) <= 3
            for s, e in segs:
                assert s >= 0.5 and 0.2 - 1e-6 <= e - s <= 0.6 + 1e-6
                assert e <= m['video_frames'] / 25
            if m['modify_type'] in ('audio_modified', 'both_modified'):
                assert m['audio_fake_segments'] == segs and m['audio_model']
            else:
                assert m['audio_fake_segments'] == []
            if m['modify_type'] in ('visual_modified', 'both_modified'):
                assert m['visual_fake_segments'] == segs and m['video_model']
            else:
                assert m['visual_fake_segments'] == []
            if m['modify_type'] != 'real':
                assert osp.dirname(m['original']) == osp.dirname(m['file'])
        labels = [len(m['fake_segments']) > 0 for m in meta]
        assert 0 < sum(labels) < len(labels)
    for subset, n in (('testA', 6), ('testB', 4)):
        files = open(osp.join(root, f'{subset}_files.txt')).read().split()
        assert len(files) == n
        assert all(osp.isfile(osp.join(root, subset, f)) for f in files)
        assert not osp.exists(osp.join(root, f'{subset}_metadata.json'))


def test_clip_format(synthetic_avdf_root):
    root = synthetic_avdf_root
    meta = json.load(open(osp.join(root, 'val_metadata.json')))
    talking = next(m for m in meta if not m['file'].startswith('silent_videos/'))
    with av.open(osp.join(root, 'val', talking['file'])) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == 'h264' and (v.width, v.height) == (224, 224)
        assert float(v.average_rate) == 25
        assert a.codec_context.name == 'aac' and a.sample_rate == 16000 and a.channels == 1
    vr = decord.VideoReader(osp.join(root, 'val', talking['file']))
    assert len(vr) == talking['video_frames']
    assert 3.0 <= talking['video_frames'] / 25 <= 4.0
    assert talking['audio_frames'] == talking['video_frames'] * 640
    silent = next(m for m in meta if m['file'].startswith('silent_videos/'))
    with av.open(osp.join(root, 'val', silent['file'])) as c:
        assert not c.streams.audio
        assert (c.streams.video[0].width, c.streams.video[0].height) == (1280, 720)
    assert silent['audio_frames'] == 0 and silent['modify_type'] == 'real'


def test_datasets_read_the_generated_layout(synthetic_avdf_root):
    ds = AVDeepfake1MDataset(data_root=synthetic_avdf_root, subset='train')
    assert len(ds) == 17
    test = AVDeepfake1MTestDataset(data_root=synthetic_avdf_root, subset='testB')
    assert len(test) == 4


def test_generator_is_deterministic(tmp_path):
    kw = dict(num_train=3, num_val=1, num_testA=1, num_testB=0, frame_size=64,
              duration_range=(2.5, 3.0), num_silent=0)
    a, b, c = (str(tmp_path / x) for x in 'abc')
    generate_synthetic_avdf(a, seed=3, **kw)
    generate_synthetic_avdf(b, seed=3, **kw)
    generate_synthetic_avdf(c, seed=4, **kw)
    ma = open(osp.join(a, 'train_metadata.json'), 'rb').read()
    assert ma == open(osp.join(b, 'train_metadata.json'), 'rb').read()
    assert ma != open(osp.join(c, 'train_metadata.json'), 'rb').read()
    files_a = open(osp.join(a, 'testA_files.txt')).read()
    assert files_a == open(osp.join(b, 'testA_files.txt')).read()
    for m in json.loads(ma):
        pa, pb = osp.join(a, 'train', m['file']), osp.join(b, 'train', m['file'])
        np.testing.assert_array_equal(decord.VideoReader(pa)[:].asnumpy(),
                                      decord.VideoReader(pb)[:].asnumpy())
        np.testing.assert_array_equal(
            decord.AudioReader(pa, sample_rate=16000, mono=True)[:].asnumpy(),
            decord.AudioReader(pb, sample_rate=16000, mono=True)[:].asnumpy())


def test_fakes_differ_from_their_original_only_inside_the_segments(tmp_path):
    root = str(tmp_path / 'd')
    meta = generate_synthetic_avdf(root, 6, 0, 0, 0, seed=1, frame_size=64,
                                   duration_range=(3.0, 3.5), num_silent=0)['train']
    for m in meta:
        if m['modify_type'] == 'real':
            continue
        fake = osp.join(root, 'train', m['file'])
        real = osp.join(root, 'train', m['original'])
        fv = decord.VideoReader(fake)[:].asnumpy().astype(int)
        rv = decord.VideoReader(real)[:].asnumpy().astype(int)
        fa = decord.AudioReader(fake, sample_rate=16000, mono=True)[:].asnumpy()[0]
        ra = decord.AudioReader(real, sample_rate=16000, mono=True)[:].asnumpy()[0]
        inside = np.zeros(len(fv), bool)
        for s, e in m['fake_segments']:
            inside[int(round(s * 25)):int(round(e * 25))] = True
        # Mean absolute difference in the mouth region (frames are 64 x 64).
        vdiff = np.abs(fv - rv)[:, 29:61, 16:48].mean(axis=(1, 2, 3))
        adiff = np.abs(fa - ra)[:len(inside) * 640].reshape(len(inside), 640).mean(1)
        margin = np.convolve(inside, np.ones(5), 'same') > 0
        if m['modify_type'] == 'audio_modified':
            assert vdiff.max() < 4  # codec noise only: the frames were not edited
        else:  # the mouth changed inside; outside only H.264 noise remains
            assert vdiff[inside].max() > 1.5 * vdiff[~margin].max()
        if m['modify_type'] == 'visual_modified':
            assert adiff.max() < 1e-3  # same audio
        else:  # the words changed inside the segments only
            assert adiff[inside].mean() > 5 * adiff[~margin].mean()


def test_cli(tmp_path, capsys):
    script = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'data', 'make_synthetic_avdf.py')
    cli = runpy.run_path(script)  # defines main() without running it
    cli['main']([str(tmp_path / 'cli'), '--train', '2', '--val', '2', '--testA', '1', '--testB',
                 '1', '--silent', '0', '--frame-size', '48', '--max-duration', '3'])
    assert 'train: 2' in capsys.readouterr().out
    assert len(json.load(open(tmp_path / 'cli' / 'val_metadata.json'))) == 2
    assert len(open(tmp_path / 'cli' / 'testB_files.txt').read().split()) == 1


@pytest.mark.slow
def test_shortcut_audit(tmp_path):
    """No trivial feature separates real from fake: AUC of duration, mean loudness, loudness of
    the first 0.3 s and file size within 0.5 +- 0.1 on 200 clips (plus the silent ones)."""
    root = str(tmp_path / 'audit')
    meta = generate_synthetic_avdf(root, 200, 0, 0, 0, seed=7, frame_size=32,
                                   duration_range=(2.5, 3.5), num_silent=1)['train']
    assert len(meta) >= 200
    y, feats = [], {k: [] for k in ('duration', 'loudness', 'first_0.3s', 'file_size')}
    for m in meta:
        path = osp.join(root, 'train', m['file'])
        y.append(int(len(m['fake_segments']) > 0))
        feats['duration'].append(len(decord.VideoReader(path)) / 25)
        try:
            wave = decord.AudioReader(path, sample_rate=16000, mono=True)[:].asnumpy()[0]
        except Exception:  # the silent clip has no audio stream
            wave = np.zeros(16000)
        feats['loudness'].append(float(np.sqrt(np.mean(wave ** 2))))
        feats['first_0.3s'].append(float(np.sqrt(np.mean(wave[:4800] ** 2))))
        feats['file_size'].append(osp.getsize(path))
    assert 0.4 < np.mean(y) < 0.6
    for name, values in feats.items():
        auc = roc_auc_score(y, values)
        assert 0.4 <= auc <= 0.6, f'{name} separates the classes: AUC {auc:.3f}'
