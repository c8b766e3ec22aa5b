"""Spectral helpers shared by the audio transforms (float32 STFT, cached librosa mel filters).

``mfcc`` equals ``librosa.feature.mfcc`` (same STFT, mel filters, dB scaling and DCT) but
avoids librosa's per-call overheads (its first call in a process also JIT-compiles for
seconds, which every dataloader worker would pay). The STFT, mel projection, dB scaling and
DCT run in float32 on torch's CPU kernels (``torch.fft.rfft`` is about 2x faster than
``scipy.fft.rfft`` here; the DCT is a cached matrix product); they use torch's intra-op thread
setting (one thread in dataloader workers).
"""

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft
import torch

__all__ = ['stft_power', 'mel_filters', 'mel_power', 'mfcc']


@lru_cache(maxsize=16)
def mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """librosa's (Slaney) mel filter bank ``(n_mels, n_fft // 2 + 1)``, cached."""
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)


@lru_cache(maxsize=16)
def _mel_filters_t(sr: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """``mel_filters(...).T`` as a contiguous tensor ``(n_fft // 2 + 1, n_mels)``."""
    return torch.from_numpy(np.ascontiguousarray(mel_filters(sr, n_fft, n_mels).T))


@lru_cache(maxsize=16)
def _window(win_length: int, n_fft: int) -> np.ndarray:
    win = np.hanning(win_length + 1)[:-1]  # periodic Hann, as scipy/librosa 'hann'
    left = (n_fft - win_length) // 2
    return np.pad(win, (left, n_fft - win_length - left)).astype(np.float32)


@lru_cache(maxsize=16)
def _window_t(win_length: int, n_fft: int) -> torch.Tensor:
    return torch.from_numpy(_window(win_length, n_fft))


@lru_cache(maxsize=16)
def _dct_matrix(n: int, k: int) -> torch.Tensor:
    """The first ``k`` rows of the orthonormal DCT-II matrix of size ``n`` (= scipy's)."""
    return torch.from_numpy(
        scipy.fft.dct(np.eye(n), axis=0, type=2, norm='ortho')[:k].astype(np.float32))


def _power_frames(y: np.ndarray, n_fft: int, hop_length: int, win_length: int,
                  center: bool) -> torch.Tensor:
    """Power spectrum per frame, ``(M, n_fft // 2 + 1)`` float32 (frames as rows)."""
    y = np.asarray(y, np.float32)
    if center:
        y = np.pad(y, (n_fft // 2, n_fft // 2))
    if y.size < n_fft:
        y = np.pad(y, (0, n_fft - y.size))
    m = 1 + (y.size - n_fft) // hop_length
    frames = torch.from_numpy(y).unfold(0, n_fft, hop_length)[:m]  # a view, no copy
    spec = torch.fft.rfft(frames * _window_t(win_length, n_fft), dim=1)  # complex64
    return spec.real.square() + spec.imag.square()


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
    return _power_frames(y, n_fft, hop_length, win_length, center).T.contiguous().numpy()


def _mel_power_t(y: np.ndarray, sr: int, n_fft: int, hop_length: int, win_length: int,
                 n_mels: int, center: bool) -> torch.Tensor:
    """``(M, n_mels)`` mel power (frames as rows)."""
    power = _power_frames(y, n_fft, hop_length, win_length, center)
    return power @ _mel_filters_t(sr, n_fft, n_mels)


def mel_power(y: np.ndarray, sr: int, n_fft: int, hop_length: int, win_length: int,
              n_mels: int, center: bool) -> np.ndarray:
    """Mel power spectrogram ``(n_mels, M)`` (= ``librosa.feature.melspectrogram``)."""
    return _mel_power_t(y, sr, n_fft, hop_length, win_length, n_mels, center).T.numpy()


def mfcc(y: np.ndarray, sr: int, n_mfcc: int, n_fft: int, hop_length: int, win_length: int,
         n_mels: int) -> np.ndarray:
    """MFCC ``(n_mfcc, M)`` equal to ``librosa.feature.mfcc`` with the same arguments."""
    mel = _mel_power_t(y, sr, n_fft, hop_length, win_length, n_mels, True)  # (M, n_mels)
    # librosa.power_to_db(ref=1.0, amin=1e-10, top_db=80.0)
    db = mel.clamp_min_(1e-10).log10_().mul_(10.0)
    if db.numel():
        db = db.clamp_min_(float(db.max()) - 80.0)
    # DCT-II (orthonormal) over the mel axis, first n_mfcc coefficients.
    return (_dct_matrix(n_mels, n_mfcc) @ db.T).numpy()
