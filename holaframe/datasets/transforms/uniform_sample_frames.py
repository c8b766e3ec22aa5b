"""Uniform sampling of T frames over the whole clip (the paper's 16-frame input)."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['UniformSampleFrames']


@TRANSFORMS.register_module()
class UniformSampleFrames(BaseTransform):
    """Split the clip into ``num_frames`` equal segments and take one frame from each.

    Test mode takes each segment's centre; train mode a random frame of each segment. A clip
    shorter than ``num_frames`` repeats frames deterministically: index ``floor(k * n / T)``.

    Args:
        num_frames: T, the number of sampled frames.
        test_mode: Deterministic centres instead of random offsets.
    """

    def __init__(self, num_frames: int = 16, test_mode: bool = False) -> None:
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.num_frames = num_frames
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_inds`` (T,) int64 and ``clip_len``."""
        n, t = int(results['total_frames']), self.num_frames
        k = np.arange(t)
        if n < t:
            inds = k * n // t
        else:
            seg = n / t
            offset = seg / 2 if self.test_mode else np.random.uniform(0, seg, t)
            inds = np.minimum(np.floor(k * seg + offset).astype(np.int64), n - 1)
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = t
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_frames={self.num_frames}, test_mode={self.test_mode})'
