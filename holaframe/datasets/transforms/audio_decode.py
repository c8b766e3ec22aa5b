"""Decode the audio track as 16 kHz mono (decord, PyAV fallback)."""

from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from ..io import NoAudioStreamError, read_audio, read_audio_window

__all__ = ['AudioDecode']


@TRANSFORMS.register_module()
class AudioDecode(BaseTransform):
    """Add ``waveform`` (N,) float32 at ``sample_rate``, ``audio_sr`` and ``has_audio``.

    The first reader is ``backend``, the other one is the fallback. The default is PyAV: on
    the AV-Deepfake1M AAC tracks it is about 5x faster than decord's ``AudioReader`` (which
    decodes and resamples the whole track through FFmpeg filters); ``backend='decord'`` tries
    decord first.

    Sample ``i / sample_rate`` is aligned with video time ``i / sample_rate`` (frame ``f`` starts
    at ``f / avg_fps``). A clip without an audio stream (or with an empty one) follows
    ``no_audio``: ``'zeros'`` (default) gives a silent waveform as long as the video and
    ``has_audio=False``; ``'error'`` raises :class:`~holaframe.datasets.io.BadSampleError`.

    **Windowed decoding** (``window`` seconds, for features that only look at the sampled clip,
    such as :class:`AudioFbank` with ``align='clip'``): only the samples
    ``[start, start + ceil(window * sample_rate))`` are decoded, where
    ``start = round(min(frame_inds) / avg_fps * sample_rate)`` (so the transform must come after
    the frame sampler). With PyAV on AAC the demuxer seeks to two AAC frames before ``start``
    (decoded and dropped); the samples equal those of the full decode. ``waveform`` keeps
    absolute sample indices: it is zero before ``start`` and ends at the window's end (or the
    track's); ``audio_window = (start, stop)`` records the decoded window. The
    :class:`AudioFbank` of HiCMAE (256 frames of 25 ms every 10 ms) needs
    ``window=2.575``; it raises an error if the window does not cover what it reads.

    Args:
        sample_rate: Output rate in Hz (16 kHz for AV-Deepfake1M).
        backend: ``'pyav'`` (decord fallback) or ``'decord'`` (PyAV fallback).
        no_audio: ``'zeros'`` or ``'error'``.
        normalize: None, ``'peak'`` (max |x| = 1) or ``'rms'`` (unit RMS) per clip.
        window: None (the whole track) or the seconds of audio decoded from the first sampled
            frame on (not combinable with ``normalize``, which needs the whole clip).
        max_corrupt_fraction: Audio packets the decoder rejects (corrupt data) are replaced by
            silence of their duration, so the rest of the track stays aligned with the video,
            and counted in ``audio_corrupt_packets``; more than this share of the packets is a
            :class:`~holaframe.datasets.io.BadSampleError`. Defaults to 0.25.
    """

    def __init__(self, sample_rate: int = 16000, backend: str = 'pyav',
                 no_audio: str = 'zeros', normalize: Optional[str] = None,
                 window: Optional[float] = None, max_corrupt_fraction: float = 0.25) -> None:
        if not 0.0 <= max_corrupt_fraction <= 1.0:
            raise ValueError(f'max_corrupt_fraction must be in [0, 1], got '
                             f'{max_corrupt_fraction!r}')
        self.max_corrupt_fraction = float(max_corrupt_fraction)
        if no_audio not in ('zeros', 'error'):
            raise ValueError(f"no_audio must be 'zeros' or 'error', got {no_audio!r}")
        if normalize not in (None, 'peak', 'rms'):
            raise ValueError(f"normalize must be None, 'peak' or 'rms', got {normalize!r}")
        if window is not None and not window > 0:
            raise ValueError(f'window must be None or > 0 seconds, got {window!r}')
        if window is not None and normalize is not None:
            raise ValueError('window and normalize cannot be combined (the normalisation '
                             'needs the whole clip)')
        self.sample_rate = sample_rate
        self.backend = backend
        self.no_audio = no_audio
        self.normalize = normalize
        self.window = window

    def _window(self, results: Dict):
        """The sample window ``(start, stop)`` of the sampled clip."""
        if 'frame_inds' not in results:
            raise KeyError(f'{results.get("filename")}: AudioDecode(window=...) needs '
                           'frame_inds; put it after the frame sampler')
        fps = float(results.get('avg_fps', 25.0))
        start = int(round(int(np.min(results['frame_inds'])) / fps * self.sample_rate))
        # round() first: 2.575 * 16000 = 41200.000000000004 must give 41200 samples.
        return start, start + int(np.ceil(round(self.window * self.sample_rate, 6)))

    def transform(self, results: Dict) -> Dict:
        """Decode the audio."""
        filename = results['filename']
        window = self._window(results) if self.window is not None else None
        stats: Dict = {}
        try:
            if window is None:
                wave = read_audio(filename, self.sample_rate, self.backend,
                                  self.max_corrupt_fraction, stats)
                has_audio = wave.size > 0
            else:
                seg, has_audio = read_audio_window(filename, window[0], window[1],
                                                   self.sample_rate, self.backend,
                                                   self.max_corrupt_fraction, stats)
        except NoAudioStreamError:
            if self.no_audio == 'error':
                raise
            has_audio = False
        if not has_audio:
            if self.no_audio == 'error':
                raise NoAudioStreamError(f'{filename}: empty audio stream')
            frames, fps = results.get('total_frames'), results.get('avg_fps', 25.0)
            n = int(round(frames / fps * self.sample_rate)) if frames else self.sample_rate
            wave = np.zeros(n, np.float32)
        elif window is not None:
            # Absolute sample indices: zeros (calloc, not touched) before the window.
            wave = np.zeros(window[0] + seg.size, np.float32)
            wave[window[0]:] = seg
            results['audio_window'] = window
        elif self.normalize == 'peak':
            wave = wave / max(float(np.abs(wave).max()), 1e-8)
        elif self.normalize == 'rms':
            wave = wave / max(float(np.sqrt(np.mean(wave ** 2))), 1e-8)
        results['waveform'] = np.ascontiguousarray(wave, dtype=np.float32)
        results['audio_sr'] = self.sample_rate
        results['has_audio'] = bool(has_audio)
        results['audio_corrupt_packets'] = int(stats.get('corrupt_packets', 0))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sample_rate={self.sample_rate}, '
                f'no_audio={self.no_audio!r}, normalize={self.normalize!r}, '
                f'window={self.window!r})')
