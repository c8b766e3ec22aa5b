"""Spectral helpers shared by the audio transforms (NumPy STFT, cached librosa mel filters).

``mfcc`` equals ``librosa.feature.mfcc`` (same STFT, mel filters, dB scaling and DCT) but
avoids librosa's per-call overheads (its first call in a process also JIT-compiles for
seconds, which every dataloader worker would pay).
"""

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft

__all__ = ['stft_power', 'mel_filters', 'mel_power', 'mfcc']


@lru_cache(maxsize=16)
def mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """librosa's (Slaney) mel filter bank ``(n_mels, n_fft // 2 + 1)``, cached."""
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)


@lru_cache(maxsize=16)
def _window(win_length: int, n_fft: int) -> np.ndarray:
    win = np.hanning(win_length + 1)[:-1]  # periodic Hann, as scipy/librosa 'hann'
    left = (n_fft - win_length) // 2
    return np.pad(win, (left, n_fft - win_length - left)).astype(np.float32)


def stft_power(y: np.ndarray, n_fft: int, hop_length: int, win_length: int,
               center: bool) -> np.ndarray:
    """Power spectrogram ``(n_fft // 2 + 1, M)`` like ``abs(librosa.stft(...)) ** 2``.

    Args:
        y: (N,) waveform.
        n_fft: FFT size.
        hop_length: Hop in samples.
        win_length: Hann window length (centred in the FFT frame).
        center: Zero-pad ``n_fft // 2`` on both sides (librosa's default) or not.
    """
    y = np.asarray(y, np.float32)
    if center:
        y = np.pad(y, (n_fft // 2, n_fft // 2))
    if y.size < n_fft:
        y = np.pad(y, (0, n_fft - y.size))
    m = 1 + (y.size - n_fft) // hop_length
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length][:m]
    spec = scipy.fft.rfft(frames * _window(win_length, n_fft), axis=1)  # complex64
    return (spec.real ** 2 + spec.imag ** 2).T.astype(np.float32)


def mel_power(y: np.ndarray, sr: int, n_fft: int, hop_length: int, win_length: int,
              n_mels: int, center: bool) -> np.ndarray:
    """Mel power spectrogram ``(n_mels, M)`` (= ``librosa.feature.melspectrogram``)."""
    return mel_filters(sr, n_fft, n_mels) @ stft_power(y, n_fft, hop_length, win_length, center)


def mfcc(y: np.ndarray, sr: int, n_mfcc: int, n_fft: int, hop_length: int, win_length: int,
         n_mels: int) -> np.ndarray:
    """MFCC ``(n_mfcc, M)`` equal to ``librosa.feature.mfcc`` with the same arguments."""
    s = librosa.power_to_db(mel_power(y, sr, n_fft, hop_length, win_length, n_mels, True))
    return scipy.fft.dct(s, axis=0, type=2, norm='ortho')[:n_mfcc]
