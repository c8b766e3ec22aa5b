"""Optional per-channel normalisation of the frames (usually the data preprocessor does it)."""

from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoNormalize']


@TRANSFORMS.register_module()
class VideoNormalize(BaseTransform):
    """``imgs = (imgs - mean) / std`` per RGB channel, as float32 (0-255 scale statistics).

    By convention holaframe pipelines keep uint8 frames and let ``AVDataPreprocessor``
    normalise on the model's device; use this transform for pipelines without one.

    Args:
        mean: Per-channel mean.
        std: Per-channel standard deviation.
    """

    def __init__(self, mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375)) -> None:
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)

    def transform(self, results: Dict) -> Dict:
        """Normalise the frames."""
        results['imgs'] = (results['imgs'].astype(np.float32) - self.mean) / self.std
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mean={self.mean.tolist()}, std={self.std.tolist()})'
