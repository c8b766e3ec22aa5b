"""MFCC features split into T segments aligned with the sampled frames (the paper's audio)."""

from typing import Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from .audio_features import mfcc

__all__ = ['AudioMFCCSegments', 'frame_windows']


def frame_windows(frame_inds: np.ndarray, fps: float) -> Tuple[np.ndarray, np.ndarray]:
    """Time window (s) of the audio that belongs to each sampled frame.

    Frame ``f`` covers ``[f, f + 1) / fps``; consecutive sampled frames share the time between
    them at the midpoint of their centres, so uniformly sampled frames split the clip into T
    equal consecutive segments. A window never gets shorter than the frame's own duration.

    Args:
        frame_inds: (T,) sampled frame indices, non-decreasing.
        fps: Video frame rate.

    Returns:
        (starts, ends), each (T,) in seconds.
    """
    inds = np.asarray(frame_inds, np.float64)
    centres = (inds + 0.5) / fps
    if len(inds) == 1:
        return inds / fps, (inds + 1) / fps
    mids = (centres[1:] + centres[:-1]) / 2
    starts = np.concatenate([[centres[0] - (mids[0] - centres[0])], mids])
    ends = np.concatenate([mids, [centres[-1] + (centres[-1] - mids[-1])]])
    starts = np.minimum(np.maximum(starts, 0.0), inds / fps)
    ends = np.maximum(ends, (inds + 1) / fps)
    return starts, ends


@TRANSFORMS.register_module()
class AudioMFCCSegments(BaseTransform):
    """``audio`` = (T, n_mfcc) float32: MFCC (as librosa) averaged within each frame's window.

    The paper computes 32 MFCC coefficients of the 16 kHz mono waveform and splits them into
    T = 16 segments aligned with the 16 sampled frames; the window of each sampled frame is
    given by :func:`frame_windows`.

    Args:
        n_mfcc: Number of coefficients (paper: 32).
        n_fft: FFT size.
        win_length: Analysis window in samples (25 ms at 16 kHz).
        hop_length: Hop in samples (10 ms at 16 kHz).
        n_mels: Mel bands behind the MFCC.
    """

    def __init__(self, n_mfcc: int = 32, n_fft: int = 512, win_length: int = 400,
                 hop_length: int = 160, n_mels: int = 64) -> None:
        self.n_mfcc = n_mfcc
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.n_mels = n_mels

    def transform(self, results: Dict) -> Dict:
        """Compute the per-frame MFCC segments."""
        wave, sr = results['waveform'], results['audio_sr']
        fps = float(results.get('avg_fps', 25.0))
        starts, ends = frame_windows(results['frame_inds'], fps)
        need = int(np.ceil(ends.max() * sr))
        if wave.size < need:  # audio shorter than the video: silence after its end
            wave = np.pad(wave, (0, need - wave.size))
        # Only the span covered by the windows (plus half an FFT of context) is analysed.
        s0 = max(int(np.floor(starts.min() * sr)) - self.n_fft // 2, 0)
        s1 = min(need + self.n_fft // 2, wave.size)
        if 'audio_window' in results:  # AudioDecode(window=...) decoded only part of the clip
            w0, w1 = results['audio_window']
            if s0 < w0 or s1 > w1:
                raise ValueError(f'{results.get("filename")}: AudioMFCCSegments reads samples '
                                 f'[{s0}, {s1}) but AudioDecode decoded only [{w0}, {w1})')
        coefs = mfcc(wave[s0:s1], sr, self.n_mfcc, self.n_fft, self.hop_length, self.win_length,
                     self.n_mels)  # = librosa.feature.mfcc: (n_mfcc, M), column j at s0 + j * hop
        times = (s0 + np.arange(coefs.shape[1]) * self.hop_length) / sr
        feats = np.empty((len(starts), self.n_mfcc), np.float32)
        for k, (s, e) in enumerate(zip(starts, ends)):
            lo, hi = np.searchsorted(times, s, 'left'), np.searchsorted(times, e, 'left')
            if hi <= lo:  # window shorter than a hop: nearest column
                lo = min(int(np.searchsorted(times, (s + e) / 2)), coefs.shape[1] - 1)
                hi = lo + 1
            feats[k] = coefs[:, lo:hi].mean(1)
        results['audio'] = feats
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(n_mfcc={self.n_mfcc})'
