"""Log-mel features resolved per video frame (the dense recipe's audio)."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from .audio_features import mel_power

__all__ = ['AudioFrameLogMel']


@TRANSFORMS.register_module()
class AudioFrameLogMel(BaseTransform):
    """``audio`` = (T, F) float32: the log-mel frames that fall in each sampled video frame.

    A log-mel spectrogram at ``1 / hop_length`` Hz (100 Hz at 16 kHz with hop 160) is computed
    over the span of the sampled frames only; video frame ``f`` gets the ``group`` mel frames
    starting at time ``f / fps`` (4 per frame at 25 fps), either stacked
    (``reduce='stack'``: F = group * n_mels) or averaged (``'mean'``: F = n_mels). With
    ``normalize=True`` the result is standardised per sample (zero mean, unit variance).

    Args:
        n_mels: Mel bands.
        n_fft: FFT size.
        win_length: Window in samples (25 ms).
        hop_length: Hop in samples (10 ms).
        group: Mel frames per video frame (sample_rate / (fps * hop_length)).
        reduce: ``'stack'`` or ``'mean'``.
        normalize: Per-sample standardisation.
    """

    def __init__(self, n_mels: int = 40, n_fft: int = 512, win_length: int = 400,
                 hop_length: int = 160, group: int = 4, reduce: str = 'stack',
                 normalize: bool = True) -> None:
        if reduce not in ('stack', 'mean'):
            raise ValueError(f"reduce must be 'stack' or 'mean', got {reduce!r}")
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.group = group
        self.reduce = reduce
        self.normalize = normalize

    def transform(self, results: Dict) -> Dict:
        """Compute the per-frame log-mel."""
        wave, sr = results['waveform'], results['audio_sr']
        fps = float(results.get('avg_fps', 25.0))
        inds = np.asarray(results['frame_inds'], np.int64)
        starts = np.round(inds * sr / fps).astype(np.int64)  # first sample of each frame
        s0 = int(starts.min())
        length = int(starts.max() - s0) + (self.group - 1) * self.hop_length + self.win_length
        seg = wave[s0:s0 + length]
        if seg.size < length:
            seg = np.pad(seg, (0, length - seg.size))
        mel = mel_power(seg, sr, self.n_fft, self.hop_length, self.win_length, self.n_mels,
                        center=False)
        logmel = np.log(mel + 1e-6).T  # (M, n_mels); row j starts at s0 + j * hop
        cols = np.round((starts - s0) / self.hop_length).astype(np.int64)
        rows = np.minimum(cols[:, None] + np.arange(self.group)[None, :], logmel.shape[0] - 1)
        feats = logmel[rows]  # (T, group, n_mels)
        feats = feats.reshape(len(inds), -1) if self.reduce == 'stack' else feats.mean(1)
        if self.normalize:
            feats = (feats - feats.mean()) / (feats.std() + 1e-5)
        results['audio'] = feats.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(n_mels={self.n_mels}, group={self.group}, '
                f'reduce={self.reduce!r})')
