"""Tests of the audio-visual transforms (shapes, dtypes, alignment, bad inputs)."""

import os.path as osp

import librosa
import numpy as np
import pytest
import torch

from holaframe.datasets import BadSampleError, NoAudioStreamError
from holaframe.datasets import io as avio
from holaframe.datasets.transforms import (
    AudioDecode,
    AudioFbank,
    AudioFrameLogMel,
    AudioMFCCSegments,
    DecordDecode,
    DecordInit,
    DenseSampleFrames,
    FrameFakeMask,
    HaarFaceCrop,
    MouthCrop,
    PackAVInputs,
    SampleClipFrames,
    UniformSampleFrames,
    VideoCenterCrop,
    VideoFlip,
    VideoNormalize,
    VideoRandomCrop,
    VideoResize,
    frame_windows,
    kaldi_fbank,
    kaldi_mel_banks,
)
from holaframe.datasets.transforms.audio_features import mfcc
from holaframe.structures import AVDataSample
from holaframe.testing import decode_index, make_indexed_clip, sine_tone, write_av_clip


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('clips')
    return dict(
        normal=make_indexed_clip(str(root / 'normal.mp4'), 100),
        short=make_indexed_clip(str(root / 'short.mp4'), 10),
        silent=make_indexed_clip(str(root / 'silent.mp4'), 50, audio=False),
        long=make_indexed_clip(str(root / 'long.mp4'), 3810),
        root=str(root),
    )


def _run(results, transforms):
    for t in transforms:
        results = t(results)
    return results


# ----------------------------------------------------------------------------- sampling
def test_uniform_sampling_test_and_train():
    r = UniformSampleFrames(16, test_mode=True)(dict(total_frames=160))
    assert r['frame_inds'].dtype == np.int64
    np.testing.assert_array_equal(r['frame_inds'], np.arange(16) * 10 + 5)
    np.random.seed(0)
    inds = UniformSampleFrames(16)(dict(total_frames=160))['frame_inds']
    assert np.all((inds >= np.arange(16) * 10) & (inds < np.arange(16) * 10 + 10))
    draws = {tuple(UniformSampleFrames(16)(dict(total_frames=160))['frame_inds'])
             for _ in range(5)}
    assert len(draws) > 1


def test_short_clip_repeats_frames_deterministically():
    for mode in (True, False):
        inds = UniformSampleFrames(16, test_mode=mode)(dict(total_frames=5))['frame_inds']
        np.testing.assert_array_equal(inds, np.arange(16) * 5 // 16)
        inds = SampleClipFrames(16, 4, test_mode=mode)(dict(total_frames=5))['frame_inds']
        np.testing.assert_array_equal(inds, np.arange(16) * 5 // 16)
    r = DenseSampleFrames(8)(dict(total_frames=5))
    np.testing.assert_array_equal(r['frame_inds'], [0, 1, 2, 3, 4, 4, 4, 4])
    assert r['num_valid_frames'] == 5
    r = DenseSampleFrames(8, short_clip='loop')(dict(total_frames=5))
    np.testing.assert_array_equal(r['frame_inds'], [0, 1, 2, 3, 4, 0, 1, 2])


def test_clip_sampling_stride():
    r = SampleClipFrames(16, 4, test_mode=True)(dict(total_frames=100))
    inds = r['frame_inds']
    np.testing.assert_array_equal(np.diff(inds), 4)
    assert inds[0] == (100 - 61) // 2
    for _ in range(10):
        inds = SampleClipFrames(16, 4)(dict(total_frames=100))['frame_inds']
        assert inds[0] >= 0 and inds[-1] <= 99 and np.all(np.diff(inds) == 4)


def test_dense_sampling_centred_on_fake_segment():
    np.random.seed(0)
    seg = [[2.0, 2.4]]  # frames 50-60
    for _ in range(20):
        r = DenseSampleFrames(16, fake_centred_prob=1.0)(
            dict(total_frames=250, avg_fps=25.0, fake_segments=seg))
        inds = r['frame_inds']
        np.testing.assert_array_equal(np.diff(inds), 1)
        assert inds[0] <= 55 <= inds[-1]  # the segment centre is inside the window
    r = DenseSampleFrames(16, test_mode=True)(dict(total_frames=250))
    np.testing.assert_array_equal(r['frame_inds'], np.arange(16))
    r = DenseSampleFrames(16, test_mode=True, test_start='center')(dict(total_frames=250))
    assert r['frame_inds'][0] == (250 - 16) // 2


# ----------------------------------------------------------------------------- decoding
def test_decode_sampled_frames_shape_and_content(clips):
    r = _run(dict(filename=clips['normal']),
             [DecordInit(), UniformSampleFrames(16, test_mode=True), DecordDecode()])
    assert r['total_frames'] == 100 and r['avg_fps'] == pytest.approx(25.0)
    assert r['imgs'].shape == (16, 32, 32, 3) and r['imgs'].dtype == np.uint8
    assert [decode_index(f) for f in r['imgs']] == r['frame_inds'].tolist()
    assert 'video_reader' not in r


def test_pyav_backend_matches_decord(clips):
    inds = np.array([0, 3, 3, 50, 99])
    a = _run(dict(filename=clips['normal'], frame_inds=inds), [DecordInit(), DecordDecode()])
    r = DecordInit(backend='pyav')(dict(filename=clips['normal']))
    assert isinstance(r['video_reader'], avio.PyAVVideoReader) and r['total_frames'] == 100
    r['frame_inds'] = inds
    b = DecordDecode()(r)
    assert [decode_index(f) for f in b['imgs']] == inds.tolist()
    assert np.abs(a['imgs'].astype(int) - b['imgs'].astype(int)).mean() < 2


def test_long_clip_decodes_only_sampled_frames(clips, monkeypatch):
    calls = []
    orig = avio._DecordReader.get_batch

    def spy(self, indices):
        calls.append(list(indices))
        return orig(self, indices)

    monkeypatch.setattr(avio._DecordReader, 'get_batch', spy)
    r = _run(dict(filename=clips['long']),
             [DecordInit(), UniformSampleFrames(16, test_mode=True), DecordDecode()])
    assert r['total_frames'] == 3810
    assert calls == [r['frame_inds'].tolist()]  # one request, only the 16 sampled frames
    assert [decode_index(f) for f in r['imgs']] == r['frame_inds'].tolist()


def test_short_clip_decodes_repeated_frames(clips):
    r = _run(dict(filename=clips['short']),
             [DecordInit(), UniformSampleFrames(16, test_mode=True), DecordDecode()])
    assert r['imgs'].shape[0] == 16
    assert [decode_index(f) for f in r['imgs']] == (np.arange(16) * 10 // 16).tolist()


@pytest.mark.parametrize('kind', ['missing', 'zero', 'text', 'truncated', 'corrupt', 'folder'])
def test_bad_video_files_raise_clear_errors(clips, tmp_path, kind):
    path = str(tmp_path / f'{kind}.mp4')
    data = open(clips['normal'], 'rb').read()
    if kind == 'zero':
        open(path, 'wb').close()
    elif kind == 'text':
        open(path, 'w').write('this is not a video\n' * 20)
    elif kind == 'truncated':
        open(path, 'wb').write(data[:len(data) // 3])
    elif kind == 'corrupt':
        rng = np.random.default_rng(0)
        open(path, 'wb').write(rng.integers(0, 256, len(data), dtype=np.uint8).tobytes())
    elif kind == 'folder':
        path = str(tmp_path / 'folder.mp4')
        import os
        os.makedirs(path)
    with pytest.raises(BadSampleError) as exc:
        _run(dict(filename=path), [DecordInit(), UniformSampleFrames(4), DecordDecode()])
    msg = str(exc.value)
    assert msg.startswith(path)
    expected = dict(missing='not found', zero='zero-byte', folder='not a regular file')
    assert expected.get(kind, 'cannot decode') in msg


# ----------------------------------------------------------------------------- spatial
def test_spatial_transforms_shapes():
    imgs = np.random.randint(0, 255, (4, 120, 200, 3), np.uint8)
    r = VideoResize(short_side=60)(dict(imgs=imgs))
    assert r['imgs'].shape == (4, 60, 100, 3) and r['imgs'].dtype == np.uint8
    r = VideoResize(short_side=None, scale=(50, 40))(dict(imgs=imgs))
    assert r['imgs'].shape == (4, 50, 40, 3)
    r = VideoCenterCrop(60)(dict(imgs=imgs))
    np.testing.assert_array_equal(r['imgs'], imgs[:, 30:90, 70:130])
    r = VideoRandomCrop((50, 70))(dict(imgs=imgs))
    x0, y0, x1, y1 = r['crop_box']
    np.testing.assert_array_equal(r['imgs'], imgs[:, y0:y1, x0:x1])
    assert r['imgs'].shape == (4, 50, 70, 3)
    r = VideoFlip(prob=1.0)(dict(imgs=imgs))
    np.testing.assert_array_equal(r['imgs'], imgs[:, :, ::-1])
    assert r['flip'] is True
    assert VideoFlip(prob=0.0)(dict(imgs=imgs))['imgs'] is imgs
    r = VideoNormalize(mean=(10, 20, 30), std=(2, 2, 2))(dict(imgs=imgs))
    assert r['imgs'].dtype == np.float32
    np.testing.assert_allclose(r['imgs'][..., 1], (imgs[..., 1].astype(np.float32) - 20) / 2)
    with pytest.raises(ValueError, match='larger than'):
        VideoCenterCrop(300)(dict(imgs=imgs, filename='x.mp4'))


def test_mouth_crop_box():
    imgs = np.random.randint(0, 255, (3, 200, 100, 3), np.uint8)
    r = MouthCrop(box=(0.2, 0.5, 0.8, 1.0), size=None)(dict(imgs=imgs))
    np.testing.assert_array_equal(r['imgs'], imgs[:, 100:200, 20:80])
    r = MouthCrop(size=84)(dict(imgs=imgs))
    assert r['imgs'].shape == (3, 84, 84, 3) and r['imgs'].dtype == np.uint8


def test_haar_face_crop_fallback_and_detection(monkeypatch):
    imgs = np.full((4, 90, 160, 3), 128, np.uint8)
    r = HaarFaceCrop()(dict(imgs=imgs))  # a flat image has no face: centre square
    assert r['face_box'] == (35, 0, 125, 90) and r['imgs'].shape == (4, 90, 90, 3)
    assert HaarFaceCrop(fallback='none')(dict(imgs=imgs))['imgs'] is imgs

    class FakeCascade:
        def detectMultiScale(self, gray, *args, **kwargs):  # noqa: N802 (OpenCV's name)
            return np.array([[100, 20, 40, 40], [10, 10, 20, 20]])

    monkeypatch.setattr(HaarFaceCrop, '_cascade', FakeCascade())
    r = HaarFaceCrop(scale=1.0)(dict(imgs=imgs))
    assert r['face_box'] == (100, 20, 140, 60)  # the largest face, squared
    assert r['imgs'].shape == (4, 40, 40, 3)


def test_haar_cascade_file_ships_with_opencv():
    assert not HaarFaceCrop.cascade().empty()


# ----------------------------------------------------------------------------- audio
def test_audio_decode_and_no_audio_policy(clips):
    r = _run(dict(filename=clips['normal']), [DecordInit(), AudioDecode()])
    assert r['has_audio'] and r['audio_sr'] == 16000 and r['waveform'].dtype == np.float32
    assert abs(r['waveform'].size - 4 * 16000) < 2048
    dec = AudioDecode(backend='decord')(dict(filename=clips['normal']))['waveform']
    assert dec.size == r['waveform'].size  # PyAV (default) and decord agree
    np.testing.assert_allclose(dec, r['waveform'], atol=1e-4)
    with pytest.raises(NoAudioStreamError, match='no audio stream'):
        AudioDecode(backend='decord', no_audio='error')(dict(filename=clips['silent']))
    r = _run(dict(filename=clips['silent']), [DecordInit(), AudioDecode()])
    assert r['has_audio'] is False and r['waveform'].size == 2 * 16000
    assert not r['waveform'].any()
    with pytest.raises(NoAudioStreamError, match='no audio stream'):
        AudioDecode(no_audio='error')(dict(filename=clips['silent']))
    r = AudioDecode(normalize='peak')(dict(filename=clips['normal']))
    assert np.abs(r['waveform']).max() == pytest.approx(1.0)


def test_silent_clip_full_pipeline_gives_zero_features(clips):
    for feat in (AudioMFCCSegments(), AudioFrameLogMel(), AudioFbank()):
        out = _run(dict(filename=clips['silent'], gt_label=0),
                   [DecordInit(), UniformSampleFrames(16, test_mode=True), DecordDecode(),
                    AudioDecode(), feat, PackAVInputs()])
        assert out['data_samples'].has_audio is False
        assert torch.isfinite(out['inputs']['audio']).all()


def test_mfcc_matches_librosa():
    y = sine_tone(1.0, 300) + 0.01 * np.random.default_rng(0).standard_normal(16000)
    ref = librosa.feature.mfcc(y=y.astype(np.float32), sr=16000, n_mfcc=32, n_fft=512,
                               win_length=400, hop_length=160, n_mels=64)
    ours = mfcc(y, 16000, 32, 512, 160, 400, 64)
    np.testing.assert_allclose(ours, ref, atol=1e-2 * np.abs(ref).max())


def test_frame_windows_split_clip_into_equal_segments():
    inds = np.arange(16) * 10 + 5  # uniform centres of a 160-frame clip
    s, e = frame_windows(inds, 25.0)
    np.testing.assert_allclose(s, np.arange(16) * 0.4 + 0.02)
    np.testing.assert_allclose(e - s, 0.4)
    s, e = frame_windows(np.array([3, 3, 4]), 25.0)  # repeats keep at least their own frame
    assert np.all(s <= np.array([3, 3, 4]) / 25) and np.all(e >= np.array([4, 4, 5]) / 25)


def test_mfcc_segments_aligned_with_frames():
    sr, fps = 16000, 25.0
    wave = np.zeros(4 * sr, np.float32)
    wave[int(2.0 * sr):int(2.4 * sr)] = sine_tone(0.4, 500)  # loud only in frames 50-59
    inds = np.arange(16) * 6 + 3  # 0..96 frames -> windows of 6 frames (0.24 s)
    r = AudioMFCCSegments()(dict(waveform=wave, audio_sr=sr, avg_fps=fps, frame_inds=inds))
    a = r['audio']
    assert a.shape == (16, 32) and a.dtype == np.float32
    loud = np.where(a[:, 0] > a[:, 0].min() + 20)[0]  # c0 ~ log energy
    s, e = frame_windows(inds, fps)
    overlap = np.where((s < 2.4) & (e > 2.0))[0]
    np.testing.assert_array_equal(loud, overlap)


def test_frame_log_mel_alignment_and_shape():
    sr = 16000
    wave = np.zeros(4 * sr, np.float32)
    wave[40 * 640:41 * 640] = sine_tone(0.04, 1000)  # exactly video frame 40
    inds = np.arange(30, 50)
    r = AudioFrameLogMel(n_mels=40, group=4, normalize=False)(
        dict(waveform=wave, audio_sr=sr, avg_fps=25.0, frame_inds=inds))
    a = r['audio']
    assert a.shape == (20, 160) and a.dtype == np.float32
    energy = a.reshape(20, 4, 40).max(axis=(1, 2))
    assert int(np.argmax(energy)) == 10  # frame 40
    assert energy[10] > energy[5] + 10
    r = AudioFrameLogMel(n_mels=40, reduce='mean')(
        dict(waveform=wave, audio_sr=sr, avg_fps=25.0, frame_inds=inds))
    assert r['audio'].shape == (20, 40)
    assert abs(float(r['audio'].mean())) < 1e-4 and abs(float(r['audio'].std()) - 1) < 1e-3


def test_kaldi_fbank_definition():
    sr = 16000
    y = sine_tone(1.0, 1000.0, amp=0.5)
    fb = kaldi_fbank(y, sr, 128)
    assert fb.shape == (1 + (16000 - 400) // 160, 128) and fb.dtype == np.float32
    banks = kaldi_mel_banks(128, 512, sr)
    assert banks.shape == (128, 257) and banks[:, -1].sum() == 0
    # The 1 kHz tone peaks in the mel bin whose centre is nearest 1 kHz.
    mel = lambda f: 1127 * np.log(1 + f / 700)  # noqa: E731
    centres = mel(20) + (np.arange(128) + 1) * (mel(8000) - mel(20)) / 129
    assert abs(int(np.argmax(fb[50])) - int(np.argmin(np.abs(centres - mel(1000))))) <= 1
    # Direct re-computation of one frame (DC removal, pre-emphasis, Hann, |FFT|^2, mel, log).
    frame = y[160 * 7:160 * 7 + 400].astype(np.float64)
    frame = frame - frame.mean()
    frame = frame - 0.97 * np.concatenate([frame[:1], frame[:-1]])
    power = np.abs(np.fft.rfft(frame * np.hanning(400), 512)) ** 2
    ref = np.log(np.maximum(banks @ power, np.finfo(np.float32).eps))
    np.testing.assert_allclose(fb[7], ref, rtol=1e-4, atol=1e-4)


def test_audio_fbank_hicmae_normalisation_and_alignment():
    sr = 16000
    wave = (sine_tone(6.0, 700) * (np.arange(6 * sr) >= 3 * sr)).astype(np.float32)
    r = AudioFbank()(dict(waveform=wave, audio_sr=sr, avg_fps=25.0,
                          frame_inds=np.arange(16) * 4 + 25))  # clip starts at 1.0 s
    a = r['audio']
    assert a.shape == (1, 256, 128) and a.dtype == np.float32
    seg = wave[sr:sr + 255 * 160 + 400]
    raw = kaldi_fbank(seg - seg.mean(), sr, 128)
    np.testing.assert_allclose(a[0], (raw - (-4.2677393)) / (2 * 4.5689974), atol=1e-5)
    # A short clip is zero-padded before normalisation (HiCMAE).
    r = AudioFbank(align='start')(dict(waveform=wave[:sr], audio_sr=sr))
    np.testing.assert_allclose(r['audio'][0, 120:], 4.2677393 / (2 * 4.5689974), atol=1e-6)


# ----------------------------------------------------------------------------- labels, packing
def test_frame_fake_mask():
    inds = np.arange(40, 70)
    r = FrameFakeMask()(dict(frame_inds=inds, avg_fps=25.0, fake_segments=[[2.0, 2.4]]))
    lab = r['frame_labels']
    assert lab.dtype == np.float32 and lab.shape == (30,)
    np.testing.assert_array_equal(np.where(lab == 1)[0] + 40, np.arange(50, 60))
    r = FrameFakeMask()(dict(frame_inds=inds, fake_segments=[]))
    assert not r['frame_labels'].any()
    with pytest.raises(ValueError, match='pseudo'):
        FrameFakeMask()(dict(frame_inds=inds, gt_label=1, pseudo_label=True, filename='a.mp4'))


def test_pack_av_inputs_conventions(clips):
    out = _run(dict(filename=clips['normal'], file='normal.mp4', gt_label=1, sample_idx=3,
                    fake_segments=[[1.0, 1.4]], modify_type='audio_modified'),
               [DecordInit(), DenseSampleFrames(32, test_mode=True), DecordDecode(),
                AudioDecode(), AudioFrameLogMel(), FrameFakeMask(), PackAVInputs()])
    video, audio = out['inputs']['video'], out['inputs']['audio']
    assert video.shape == (3, 32, 32, 32) and video.dtype == torch.uint8
    assert audio.shape == (32, 160) and audio.dtype == torch.float32
    ds = out['data_samples']
    assert isinstance(ds, AVDataSample)
    assert ds.gt_label.tolist() == [1] and ds.gt_label.dtype == torch.long
    assert ds.frame_labels.shape == (32,) and ds.frame_labels[25:].sum() == 7
    assert ds.has_audio is True and ds.file == 'normal.mp4' and ds.num_frames == 100
    assert ds.filename == clips['normal'] and ds.modify_type == 'audio_modified'
    # Channel-first: video[:, t] is frame t of imgs.
    assert decode_index(video[:, 5].permute(1, 2, 0).numpy()) == 5


def test_pack_without_audio_features_is_an_error():
    with pytest.raises(KeyError, match='audio'):
        PackAVInputs()(dict(imgs=np.zeros((2, 4, 4, 3), np.uint8), filename='x.mp4'))


def test_write_av_clip_without_audio_has_no_stream(tmp_path):
    import av
    path = str(tmp_path / 'v.mp4')
    write_av_clip(path, [np.zeros((32, 48, 3), np.uint8)] * 5, None)
    with av.open(path) as c:
        assert not c.streams.audio and c.streams.video[0].width == 48
    assert osp.getsize(path) > 0


def test_decord_failure_falls_back_to_pyav(tmp_path):
    # decord 0.6.0 cannot copy out 48-pixel-wide frames (size mismatch); PyAV takes over.
    path = make_indexed_clip(str(tmp_path / 'w48.mp4'), 20, size=48)
    r = _run(dict(filename=path), [DecordInit(), UniformSampleFrames(4, test_mode=True),
                                   DecordDecode()])
    assert r['imgs'].shape == (4, 48, 48, 3)
    assert [decode_index(f) for f in r['imgs']] == r['frame_inds'].tolist()


def test_flip_frames_equals_the_reversed_view():
    """VideoFlip's OpenCV path gives NumPy's values for views, dtypes and channel counts."""
    from holaframe.datasets.transforms.video_flip import flip_frames
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (3, 20, 30, 3), dtype=np.uint8)
    cases = [base, base[:, 2:17, 5:26], base.astype(np.float32), base[..., :1], base[..., :2],
             base[:, :, ::2], np.repeat(base, 2, axis=3), base.astype(np.int16)]
    for imgs in cases:
        out = flip_frames(imgs)
        np.testing.assert_array_equal(out, imgs[:, :, ::-1])
        assert out.flags.c_contiguous and out.dtype == imgs.dtype and out.shape == imgs.shape
