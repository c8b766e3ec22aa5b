"""Transform of the leading-silence audit: sample the clip only after its leading silence."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.datasets.leading_silence import leading_silence_seconds
from holaframe.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TrimLeadingSilence(BaseTransform):
    """Move the sampled frames (and with them the audio windows) past the leading silence.

    Used by the leading-silence audit (``tools/test.py --leading-silence-audit``): the model is
    re-scored on clips whose leading silence is cut off, so a detector that times the silence
    instead of looking at the forgery loses accuracy. Insert it right after the frame sampler
    (``UniformSampleFrames`` ...) and before ``DecordDecode`` and the audio feature transforms;
    it needs ``AudioDecode`` before it. The onset is the first sounding 25 ms frame as defined
    in :mod:`holaframe.datasets.leading_silence`; with ``n`` frames and onset frame ``f0`` the
    sampled indices ``i`` become ``f0 + floor(i * (n - f0) / n)``: the same relative positions
    over the trimmed clip. ``AudioMFCCSegments``, ``AudioFrameLogMel`` and ``AudioFbank`` (with its
    default ``align='clip'``) cut their audio windows at the sampled frames' times, so the audio
    is trimmed consistently (``AudioFbank(align='start')`` would not be). Clips without an audio
    track or without any sound, and trims that would leave fewer than ``min_keep_s`` seconds, are
    left unchanged. Adds ``leading_silence`` (seconds) and ``trim_start_frame``.

    Args:
        threshold_db (float): See :func:`leading_silence_seconds`.
        min_keep_s (float): Minimum remaining duration in seconds for a trim to be applied.
    """

    def __init__(self, threshold_db: float = 35.0, min_keep_s: float = 1.0) -> None:
        self.threshold_db = threshold_db
        self.min_keep_s = min_keep_s

    def transform(self, results: Dict) -> Dict:
        """Shift ``frame_inds`` past the leading silence.

        Args:
            results (dict): Needs ``waveform``, ``audio_sr``, ``frame_inds``, ``total_frames``
                and ``avg_fps``.
        """
        for key in ('waveform', 'audio_sr', 'frame_inds', 'total_frames'):
            if key not in results:
                raise KeyError(f'{results.get("filename")}: TrimLeadingSilence needs {key!r}; '
                               'place it after AudioDecode and the frame sampler.')
        n = int(results['total_frames'])
        fps = float(results.get('avg_fps', 25.0))
        silence = 0.0
        if results.get('has_audio', True):
            silence = leading_silence_seconds(results['waveform'], int(results['audio_sr']),
                                              threshold_db=self.threshold_db)
        start = int(np.floor(silence * fps))
        if silence >= len(results['waveform']) / float(results['audio_sr']):
            start = 0  # never sounds: nothing to trim against
        if (n - start) / fps < self.min_keep_s:
            start = 0
        inds = np.asarray(results['frame_inds'], dtype=np.int64)
        if start > 0:
            inds = start + (inds * (n - start)) // n
        results['frame_inds'] = np.minimum(inds, n - 1)
        results['leading_silence'] = float(silence)
        results['trim_start_frame'] = start
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold_db={self.threshold_db}, '
                f'min_keep_s={self.min_keep_s})')
