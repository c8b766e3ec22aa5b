"""Random horizontal flip of the whole clip."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoFlip']


@TRANSFORMS.register_module()
class VideoFlip(BaseTransform):
    """Flip every frame left-right with probability ``prob`` (one draw per clip).

    Args:
        prob: Flip probability.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        """Maybe flip the frames."""
        flip = bool(np.random.rand() < self.prob)
        if flip:
            results['imgs'] = np.ascontiguousarray(results['imgs'][:, :, ::-1])
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'
