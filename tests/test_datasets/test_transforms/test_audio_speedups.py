"""The data-pipeline speed-ups compute what the plain implementations compute.

Windowed AAC decoding equals the slice of the full decode (bit-exact); the float32 fbank, the
torch MFCC, the in-place resize and the channel split stay within pinned tolerances of their
references.
"""

import librosa
import numpy as np
import pytest
import torch

from holaframe.datasets import BadSampleError, NoAudioStreamError
from holaframe.datasets import io as avio
from holaframe.datasets.transforms import (
    AudioDecode,
    AudioFbank,
    AudioMFCCSegments,
    DecordInit,
    SampleClipFrames,
    kaldi_fbank,
    kaldi_mel_banks,
)
from holaframe.datasets.transforms.audio_features import mel_power, mfcc
from holaframe.datasets.transforms.pack_av_inputs import channels_first
from holaframe.datasets.transforms.video_resize import resize_frames
from holaframe.testing import make_indexed_clip, sine_tone, write_av_clip

SR = 16000


def _speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts and chirps: every AAC frame differs."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    wave = 0.2 * np.sin(2 * np.pi * (200 + 300 * t) * t)
    wave *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    wave += 0.05 * rng.standard_normal(n) * (np.sin(2 * np.pi * 0.7 * t) > 0)
    return wave


@pytest.fixture(scope='module')
def av_clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('speedups')
    frames = [np.full((32, 32, 3), i % 255, np.uint8) for i in range(150)]  # 6 s at 25 fps
    speech = str(root / 'speech.mp4')
    write_av_clip(speech, frames, _speech_like(6.0), preset='ultrafast')
    return dict(speech=speech,
                silent=make_indexed_clip(str(root / 'silent.mp4'), 50, audio=False),
                short=make_indexed_clip(str(root / 'short.mp4'), 10))


# ----------------------------------------------------------------------------- windowed decode
def test_audio_window_equals_slice_of_full_decode(av_clips, monkeypatch):
    path = av_clips['speech']
    full = avio.read_audio(path, SR, 'pyav')
    assert full.size > 90000
    seeks = []
    orig = avio._collect_window

    def spy(frames, base, start, stop, drop, latest):
        seeks.append(drop)
        return orig(frames, base, start, stop, drop, latest)

    monkeypatch.setattr(avio, '_collect_window', spy)
    starts = [0, 1, 1023, 1024, 2047, 2048, 3071, 3072, 3073, 5000, 40000, 41200,
              full.size - 41200, full.size - 1000, full.size - 1, full.size, full.size + 500]
    for start in starts:
        for length in (1, 1024, 41200, 10 ** 6):
            seg, has_audio = avio.read_audio_window(path, start, start + length, SR, 'pyav')
            assert has_audio and seg.dtype == np.float32
            np.testing.assert_array_equal(seg, full[start:start + length])  # bit-exact
    # Windows far from the start were decoded after a seek, with two pre-roll frames dropped.
    assert avio.AUDIO_PREROLL_FRAMES in seeks and 0 in seeks


def test_audio_window_fallbacks_and_errors(av_clips, monkeypatch, tmp_path):
    path = av_clips['speech']
    full = avio.read_audio(path, SR, 'pyav')
    # Unexpected timestamps after the seek: the full decode is sliced instead.
    monkeypatch.setattr(avio, '_collect_window', lambda *args: None)
    seg, has_audio = avio.read_audio_window(path, 50000, 60000, SR, 'pyav')
    np.testing.assert_array_equal(seg, full[50000:60000])
    monkeypatch.undo()
    # decord first: it decodes everything and slices (decord resamples itself; same length).
    seg, has_audio = avio.read_audio_window(path, 50000, 60000, SR, 'decord')
    assert has_audio and seg.size == 10000
    np.testing.assert_allclose(seg, full[50000:60000], atol=1e-4)
    with pytest.raises(NoAudioStreamError, match='no audio stream'):
        avio.read_audio_window(av_clips['silent'], 0, 100, SR, 'pyav')
    missing = str(tmp_path / 'missing.mp4')
    with pytest.raises(BadSampleError) as exc:
        avio.read_audio_window(missing, 0, 100)
    assert str(exc.value).startswith(missing)
    bad = str(tmp_path / 'bad.mp4')
    open(bad, 'w').write('not a video\n' * 50)
    with pytest.raises(BadSampleError) as exc:
        avio.read_audio_window(bad, 0, 100)
    assert str(exc.value).startswith(bad) and 'cannot decode audio' in str(exc.value)
    with pytest.raises(ValueError, match='window'):
        avio.read_audio_window(path, 10, 5)


def _pretrain(path, start_frame, window):
    results = DecordInit()(dict(filename=path))
    results['frame_inds'] = start_frame + np.arange(16) * 4
    results = AudioDecode(window=window)(results)
    return AudioFbank()(dict(results))


@pytest.mark.parametrize('start_frame', [0, 1, 3, 37, 80, 89, 140])
def test_windowed_audio_decode_gives_the_same_fbank(av_clips, start_frame):
    path = av_clips['speech']
    ref = _pretrain(path, start_frame, None)
    out = _pretrain(path, start_frame, 2.575)
    np.testing.assert_array_equal(out['audio'], ref['audio'])
    start = int(round(start_frame / 25 * SR))
    assert out['audio_window'] == (start, start + 41200)
    assert out['has_audio'] is True and 'audio_window' not in ref
    wave, ref_wave = out['waveform'], ref['waveform']
    assert wave.dtype == np.float32 and wave.size == min(start + 41200, ref_wave.size)
    np.testing.assert_array_equal(wave[start:], ref_wave[start:start + 41200])
    assert not wave[:start].any()  # absolute indices, zeros before the window


def test_windowed_audio_decode_silent_and_misuse(av_clips):
    out = _pretrain(av_clips['silent'], 10, 2.575)  # no audio stream: silent, as before
    ref = _pretrain(av_clips['silent'], 10, None)
    assert out['has_audio'] is False and out['waveform'].size == ref['waveform'].size
    np.testing.assert_array_equal(out['audio'], ref['audio'])
    with pytest.raises(NoAudioStreamError):
        AudioDecode(window=2.575, no_audio='error')(
            dict(filename=av_clips['silent'], frame_inds=np.arange(4)))
    with pytest.raises(ValueError, match='window=2.575'):
        _pretrain(av_clips['speech'], 20, 2.5)  # too short for the fbank
    with pytest.raises(ValueError, match='AudioMFCCSegments reads'):  # needs the whole clip
        r = AudioDecode(window=2.575)(dict(filename=av_clips['speech'], avg_fps=25.0,
                                           frame_inds=np.arange(16) * 9))
        AudioMFCCSegments()(r)
    with pytest.raises(KeyError, match='frame_inds'):
        AudioDecode(window=2.575)(dict(filename=av_clips['speech']))
    with pytest.raises(ValueError, match='normalize'):
        AudioDecode(window=2.575, normalize='peak')
    # A clip shorter than the window: the fbank is zero-padded exactly as with the full decode.
    r = SampleClipFrames(16, 4, test_mode=True)(DecordInit()(dict(filename=av_clips['short'])))
    a = AudioFbank()(AudioDecode(window=2.575)(dict(r)))['audio']
    np.testing.assert_array_equal(a, AudioFbank()(AudioDecode()(dict(r)))['audio'])


# ----------------------------------------------------------------------------- features
@pytest.mark.filterwarnings('ignore:n_fft=512 is too large')
def test_mfcc_and_mel_power_match_librosa_closely():
    y = _speech_like(3.0).astype(np.float32)
    for seg in (y, y[:300], y[:5000]):
        ref = librosa.feature.mfcc(y=seg, sr=SR, n_mfcc=32, n_fft=512, win_length=400,
                                   hop_length=160, n_mels=64)
        ours = mfcc(seg, SR, 32, 512, 160, 400, 64)
        assert ours.shape == ref.shape and ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref, atol=1e-4 * np.abs(ref).max())
    ref = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, win_length=400, hop_length=160,
                                         n_mels=40, center=False)
    ours = mel_power(y, SR, 512, 160, 400, 40, False)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-6 * ref.max())


def _kaldi_fbank_float64(wave, num_mel_bins=128):
    """The float64 definition (the implementation before the float32 speed-up)."""
    wave = np.asarray(wave, np.float64)
    n = 1 + (wave.size - 400) // 160
    frames = wave[np.arange(400)[None, :] + 160 * np.arange(n)[:, None]]
    frames = frames - frames.mean(1, keepdims=True)
    frames = frames - 0.97 * np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    power = np.abs(np.fft.rfft(frames * np.hanning(400), n=512, axis=1)) ** 2
    mel = power @ kaldi_mel_banks(num_mel_bins, 512, SR).T
    return np.log(np.maximum(mel, np.finfo(np.float32).eps))


def test_float32_kaldi_fbank_close_to_float64_definition():
    for wave in (_speech_like(2.575), sine_tone(2.575, 700), np.zeros(41200),
                 1e-4 * np.random.default_rng(1).standard_normal(41200)):
        wave = (wave - wave.mean()).astype(np.float32)
        ours, ref = kaldi_fbank(wave), _kaldi_fbank_float64(wave)
        assert ours.shape == ref.shape == (256, 128) and ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref, atol=1e-3)  # measured <= 3.4e-4


# ----------------------------------------------------------------------------- video
def test_resize_and_channel_split_are_exact():
    import cv2
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 90, 120, 3), np.uint8)
    for view in (imgs, imgs[:, 5:-5, 10:-3], imgs[:, :, ::-1]):
        for size in ((60, 80), (64, 64), (180, 240)):
            interp = cv2.INTER_AREA if size[0] * size[1] < 90 * 120 else cv2.INTER_LINEAR
            ref = np.stack([cv2.resize(f, size[::-1], interpolation=interp) for f in view])
            np.testing.assert_array_equal(resize_frames(view, size), ref)
        for x in (view, view.astype(np.float32), np.ascontiguousarray(view[..., :2])):
            ref = torch.from_numpy(np.ascontiguousarray(x)).permute(3, 0, 1, 2).contiguous()
            out = channels_first(x)
            assert out.is_contiguous() and out.dtype == ref.dtype
            assert torch.equal(out, ref)
