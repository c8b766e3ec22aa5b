"""Clip sampling with a frame stride (HiCMAE pre-training: 16 frames at stride 4)."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['SampleClipFrames']


@TRANSFORMS.register_module()
class SampleClipFrames(BaseTransform):
    """Take ``clip_len`` frames ``frame_interval`` apart from a random (train) or centred start.

    A clip shorter than the span ``(clip_len - 1) * frame_interval + 1`` is covered with a
    smaller stride: index ``floor(k * n / clip_len)`` (deterministic repeats when
    ``n < clip_len``).

    Args:
        clip_len: Number of frames.
        frame_interval: Stride between sampled frames.
        test_mode: Centred instead of random start.
    """

    def __init__(self, clip_len: int = 16, frame_interval: int = 4,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or frame_interval < 1:
            raise ValueError('clip_len and frame_interval must be >= 1')
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_inds`` and ``clip_len``."""
        n = int(results['total_frames'])
        span = (self.clip_len - 1) * self.frame_interval + 1
        k = np.arange(self.clip_len)
        if n < span:
            inds = k * n // self.clip_len
        else:
            start = (n - span) // 2 if self.test_mode else np.random.randint(0, n - span + 1)
            inds = start + k * self.frame_interval
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = self.clip_len
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, test_mode={self.test_mode})')
