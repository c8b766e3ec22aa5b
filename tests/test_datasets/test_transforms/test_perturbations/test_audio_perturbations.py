"""Each audio perturbation changes the waveform in its documented direction."""

import numpy as np
import pytest

from holaframe.datasets.transforms.perturbations import (
    AudioGaussianNoise,
    AudioMP3Compression,
    AudioPitchShift,
    AudioReverb,
)
from holaframe.datasets.transforms.perturbations.audio_reverb import sox_feedback

SR = 16000


def tone(freq=220.0, seconds=1.0, noise=0.0, seed=0):
    t = np.arange(int(SR * seconds)) / SR
    rng = np.random.default_rng(seed)
    wave = 0.3 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 3 * freq * t)
    return (wave + noise * rng.standard_normal(t.size)).astype(np.float32)


def apply(cls, wave, level, seed=0, **extra):
    results = dict(waveform=wave.copy(), audio_sr=SR, file='fake/a.mp4', **extra)
    return cls(level=level, seed=seed)(results)


def snr_db(clean, noisy):
    clean = clean.astype(np.float64)
    return 10 * np.log10(np.sum(clean ** 2) / np.sum((noisy.astype(np.float64) - clean) ** 2))


def pitch_hz(wave):
    """Fundamental frequency from the autocorrelation's first maximum in 60..1000 Hz."""
    wave = wave.astype(np.float64) - wave.mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(wave, 2 * wave.size)) ** 2)[:wave.size]
    lo, hi = SR // 1000, SR // 60
    return SR / (lo + np.argmax(ac[lo:hi]))


@pytest.mark.parametrize('level', range(1, 6))
def test_noise_snr_is_within_half_a_db_of_the_target(level):
    wave = tone()
    out = apply(AudioGaussianNoise, wave, level)['waveform']
    assert snr_db(wave, out) == pytest.approx(AudioGaussianNoise.levels[level - 1], abs=0.5)


@pytest.mark.parametrize('level', [1, 3, 5])
def test_pitch_moves_by_the_levels_semitones(level):
    wave = tone(seconds=1.0)
    for seed in range(4):  # both directions occur
        results = apply(AudioPitchShift, wave, level, seed=seed)
        semitones = results['pitch_shift_semitones']
        assert abs(semitones) == AudioPitchShift.levels[level - 1]
        middle = results['waveform'][SR // 4:3 * SR // 4]
        assert pitch_hz(middle) == pytest.approx(220.0 * 2 ** (semitones / 12), rel=0.03)
    signs = {np.sign(apply(AudioPitchShift, wave, level, seed=s)['pitch_shift_semitones'])
             for s in range(16)}
    assert signs == {-1.0, 1.0}


def test_reverb_tail_grows_with_level():
    burst = tone(seconds=0.6)
    burst[int(0.1 * SR):] = 0.0  # 100 ms of sound, then silence the reverb fills
    tails = []
    for lv in range(1, 6):
        out = apply(AudioReverb, burst, lv)['waveform']
        tails.append(float(np.sum(out[int(0.15 * SR):] ** 2)))
    assert tails[0] > 0 and all(a < b for a, b in zip(tails, tails[1:])), tails
    assert sox_feedback(0) == pytest.approx(0.3) and sox_feedback(100) == pytest.approx(0.98)
    sizes = [AudioReverb(level=lv).room_size for lv in range(1, 6)]
    assert sizes[0] == 0.0 and sizes[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(sizes, sizes[1:]))


def test_mp3_loses_more_at_lower_bit_rates_and_stays_aligned():
    wave = tone(seconds=1.0, noise=0.02)
    outs = [apply(AudioMP3Compression, wave, lv)['waveform'] for lv in (1, 3, 5)]
    values = [snr_db(wave, out) for out in outs]
    assert values[0] > values[1] > values[2], values
    # Aligned: the best lag of the cross-correlation is 0.
    c = np.correlate(outs[2][2000:6000], wave[2000:6000], 'full')
    assert np.argmax(c) - 3999 == 0
    assert AudioMP3Compression.encoding_rate(16000) == 32000
    assert AudioMP3Compression.encoding_rate(44100) == 44100


def test_only_the_decoded_window_is_perturbed_and_silence_is_kept():
    wave = np.zeros(2 * SR, np.float32)
    wave[SR:] = tone(seconds=1.0)
    out = apply(AudioGaussianNoise, wave, 5, audio_window=(SR, 2 * SR))['waveform']
    assert np.array_equal(out[:SR], wave[:SR])
    assert snr_db(wave[SR:], out[SR:]) == pytest.approx(10.0, abs=0.5)
    silent = np.zeros(SR, np.float32)
    for cls in (AudioGaussianNoise, AudioPitchShift, AudioReverb, AudioMP3Compression):
        assert np.array_equal(apply(cls, silent, 5)['waveform'], silent)
