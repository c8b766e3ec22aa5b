"""Sample every frame of a clip (whole-video prediction with sliding windows in the model)."""

from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['WholeVideoSampleFrames']


@TRANSFORMS.register_module()
class WholeVideoSampleFrames(BaseTransform):
    """Take every frame of the clip, for models that cut it into test windows themselves.

    ``frame_inds`` = ``0 .. n-1``. A clip shorter than ``min_len`` frames (one test window) is
    padded to ``min_len`` by repeating its last frame, so that every clip fills at least one
    window; ``num_valid_frames`` = ``min(n, ...)`` records how many frames are real and the
    model leaves the padding out of its frame scores and segments. ``max_frames`` bounds the
    memory of one clip: a longer clip is an error naming the file (the decoder's own
    ``max_duration`` limit applies first).

    Args:
        min_len: Shortest output in frames (the model's test window). Defaults to 1.
        max_frames: Longest clip accepted, in frames; None for no limit. Defaults to 7500
            (300 s at 25 fps).
    """

    def __init__(self, min_len: int = 1, max_frames: Optional[int] = 7500) -> None:
        if min_len < 1:
            raise ValueError(f'whole_video_sample_frames.py: min_len must be >= 1, got {min_len}')
        if max_frames is not None and max_frames < min_len:
            raise ValueError(f'whole_video_sample_frames.py: max_frames ({max_frames}) must be '
                             f'>= min_len ({min_len})')
        self.min_len = min_len
        self.max_frames = max_frames

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_inds``, ``clip_len`` and ``num_valid_frames``."""
        n = int(results['total_frames'])
        if n < 1:
            raise ValueError(f'{results.get("filename")}: the video has no frames')
        if self.max_frames is not None and n > self.max_frames:
            raise ValueError(f'{results.get("filename")}: {n} frames, more than '
                             f'max_frames={self.max_frames} of WholeVideoSampleFrames')
        length = max(n, self.min_len)
        inds = np.minimum(np.arange(length), n - 1)
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = length
        results['num_valid_frames'] = n
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(min_len={self.min_len}, '
                f'max_frames={self.max_frames})')
