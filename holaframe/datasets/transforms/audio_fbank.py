"""HiCMAE log-mel filter bank (Kaldi-compatible, 128 bins, 25 ms / 10 ms, 256 frames)."""

from functools import lru_cache
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['AudioFbank', 'kaldi_fbank', 'kaldi_mel_banks', 'HICMAE_FBANK_MEAN',
           'HICMAE_FBANK_STD']

HICMAE_FBANK_MEAN = -4.2677393
HICMAE_FBANK_STD = 4.5689974


def _mel(f: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)


def kaldi_mel_banks(num_bins: int, padded_window: int, sample_rate: int,
                    low_freq: float = 20.0, high_freq: float = 0.0) -> np.ndarray:
    """Kaldi's triangular mel filters (triangles in the mel domain), ``(num_bins, fft/2+1)``."""
    nyquist = sample_rate / 2
    if high_freq <= 0:
        high_freq += nyquist
    num_fft_bins = padded_window // 2
    mel_low, mel_high = _mel(low_freq), _mel(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    b = np.arange(num_bins)[:, None]
    left, centre, right = mel_low + b * delta, mel_low + (b + 1) * delta, mel_low + (b + 2) * delta
    mel = _mel(sample_rate / padded_window * np.arange(num_fft_bins))[None, :]
    up = (mel - left) / (centre - left)
    down = (right - mel) / (right - centre)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1)))  # the Nyquist bin gets no weight


@lru_cache(maxsize=16)
def _mel_banks_t(num_bins: int, padded_window: int, sample_rate: int) -> torch.Tensor:
    """``kaldi_mel_banks(...).T`` as a float32 tensor ``(fft/2+1, num_bins)``, cached."""
    banks = kaldi_mel_banks(num_bins, padded_window, sample_rate)
    return torch.from_numpy(np.ascontiguousarray(banks.T, dtype=np.float32))


@lru_cache(maxsize=16)
def _hann(size: int) -> np.ndarray:
    return np.hanning(size).astype(np.float32)  # symmetric Hann = hann_window(periodic=False)


def kaldi_fbank(wave: np.ndarray, sample_rate: int = 16000, num_mel_bins: int = 128,
                frame_length_ms: float = 25.0, frame_shift_ms: float = 10.0,
                preemphasis: float = 0.97) -> np.ndarray:
    """Log mel filter bank like ``torchaudio.compliance.kaldi.fbank`` as HiCMAE calls it.

    Settings: ``htk_compat=True, use_energy=False, window_type='hanning', dither=0``, DC offset
    removed per frame, pre-emphasis 0.97, FFT size rounded up to a power of two, power
    spectrum, ``snip_edges=True``, log floored at float32 epsilon. Computed in float32, as
    torchaudio does for a float32 waveform (within about 5e-4 of a float64 computation in the
    log domain); the mel banks are cached and the frames are a strided view (no copy).

    Args:
        wave: (N,) waveform in [-1, 1].
        sample_rate: Rate in Hz.
        num_mel_bins: Mel bins (HiCMAE: 128).
        frame_length_ms: Window (25 ms).
        frame_shift_ms: Shift (10 ms).
        preemphasis: Pre-emphasis coefficient.

    Returns:
        (num_frames, num_mel_bins) float32; zero frames when the wave is shorter than a window.
    """
    wave = np.asarray(wave, np.float32)
    size = int(sample_rate * frame_length_ms / 1000)
    shift = int(sample_rate * frame_shift_ms / 1000)
    if wave.size < size:
        return np.zeros((0, num_mel_bins), np.float32)
    n = 1 + (wave.size - size) // shift
    frames = np.lib.stride_tricks.sliding_window_view(wave, size)[::shift][:n]  # a view
    frames = frames - frames.mean(1, keepdims=True)
    emph = np.empty_like(frames)  # x[t] - preemphasis * x[t - 1], x[-1] := x[0]
    emph[:, 1:] = frames[:, :-1]
    emph[:, 0] = frames[:, 0]
    emph *= -preemphasis
    emph += frames
    emph *= _hann(size)
    padded = 1 << int(np.ceil(np.log2(size)))
    spec = torch.fft.rfft(torch.from_numpy(emph), n=padded, dim=1)
    power = spec.real.square() + spec.imag.square()
    mel = power @ _mel_banks_t(num_mel_bins, padded, sample_rate)
    return mel.clamp_min_(float(np.finfo(np.float32).eps)).log_().numpy()


@TRANSFORMS.register_module()
class AudioFbank(BaseTransform):
    """``audio`` = (1, target_length, num_mel_bins) HiCMAE-normalised log-mel fbank.

    The audio starts at the first sampled frame (``align='clip'``, so a 16-frame stride-4
    clip at 25 fps and 256 fbank frames cover the same 2.56 s) or at 0 (``'start'``). The waveform
    minus its mean goes through :func:`kaldi_fbank`; the result is zero-padded or cut to
    ``target_length`` frames and normalised as in HiCMAE:
    ``(fbank - mean) / (2 * std)`` with mean -4.2677393 and std 4.5689974.

    After ``AudioDecode(window=...)`` (which decodes only the sampled clip's audio) it checks
    that the decoded window covers the samples it reads: the defaults need
    ``window=2.575`` (255 shifts of 10 ms plus a 25 ms window) and ``align='clip'``.

    Args:
        num_mel_bins: Mel bins (128).
        target_length: Frames (256).
        frame_length_ms: Window (25 ms).
        frame_shift_ms: Shift (10 ms).
        align: ``'clip'`` or ``'start'``.
        mean: Normalisation mean.
        std: Normalisation std.
    """

    def __init__(self, num_mel_bins: int = 128, target_length: int = 256,
                 frame_length_ms: float = 25.0, frame_shift_ms: float = 10.0,
                 align: str = 'clip', mean: float = HICMAE_FBANK_MEAN,
                 std: float = HICMAE_FBANK_STD) -> None:
        if align not in ('clip', 'start'):
            raise ValueError(f"align must be 'clip' or 'start', got {align!r}")
        self.num_mel_bins = num_mel_bins
        self.target_length = target_length
        self.frame_length_ms = frame_length_ms
        self.frame_shift_ms = frame_shift_ms
        self.align = align
        self.mean = mean
        self.std = std

    def transform(self, results: Dict) -> Dict:
        """Compute the fbank."""
        wave, sr = results['waveform'], results['audio_sr']
        start = 0
        if self.align == 'clip' and 'frame_inds' in results:
            fps = float(results.get('avg_fps', 25.0))
            start = int(round(int(np.min(results['frame_inds'])) / fps * sr))
        shift = int(sr * self.frame_shift_ms / 1000)
        size = int(sr * self.frame_length_ms / 1000)
        need = (self.target_length - 1) * shift + size
        if 'audio_window' in results:  # AudioDecode(window=...) decoded only part of the clip
            w0, w1 = results['audio_window']
            if start < w0 or start + need > w1:
                raise ValueError(
                    f'{results.get("filename")}: AudioFbank reads samples [{start}, '
                    f'{start + need}) but AudioDecode decoded only [{w0}, {w1}); use '
                    f'AudioDecode(window={need / sr:g}) (and align=\'clip\')')
        seg = wave[start:start + need]
        seg = seg - seg.mean() if seg.size else seg
        fbank = kaldi_fbank(seg, sr, self.num_mel_bins, self.frame_length_ms,
                            self.frame_shift_ms)
        p = self.target_length - fbank.shape[0]
        if p > 0:  # HiCMAE pads with zeros before normalising
            fbank = np.pad(fbank, ((0, p), (0, 0)))
        fbank = fbank[:self.target_length]
        fbank = (fbank - self.mean) / (self.std * 2)  # HiCMAE normalisation
        results['audio'] = fbank[None].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_mel_bins={self.num_mel_bins}, '
                f'target_length={self.target_length}, align={self.align!r})')
