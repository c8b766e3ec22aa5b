"""Resize every frame (short side to a size, or to a fixed size)."""

from typing import Dict, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoResize']


def resize_frames(imgs: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize (T, H, W, C) frames to (height, width) = ``size`` with OpenCV."""
    h, w = size
    if imgs.shape[1:3] == (h, w):
        return imgs
    interp = cv2.INTER_AREA if h * w < imgs.shape[1] * imgs.shape[2] else cv2.INTER_LINEAR
    out = np.empty((len(imgs), h, w) + imgs.shape[3:], imgs.dtype)
    for f, o in zip(imgs, out):  # written in place (no list of frames to stack)
        r = cv2.resize(f, (w, h), dst=o, interpolation=interp)
        if r is not o and not np.shares_memory(r, o):  # OpenCV allocated anew
            o[...] = r.reshape(o.shape)
    return out


@TRANSFORMS.register_module()
class VideoResize(BaseTransform):
    """Resize ``imgs`` so the short side equals ``short_side`` (paper: 224), or to ``scale``.

    Args:
        short_side: Target length of the shorter side (aspect ratio kept).
        scale: Fixed (height, width); used when ``short_side`` is None.
    """

    def __init__(self, short_side: Optional[int] = 224,
                 scale: Optional[Tuple[int, int]] = None) -> None:
        if (short_side is None) == (scale is None):
            raise ValueError('give exactly one of short_side and scale')
        self.short_side = short_side
        self.scale = tuple(scale) if scale is not None else None

    def transform(self, results: Dict) -> Dict:
        """Resize the frames."""
        imgs = results['imgs']
        h, w = imgs.shape[1:3]
        if self.scale is not None:
            size = self.scale
        elif h <= w:
            size = (self.short_side, int(round(w * self.short_side / h)))
        else:
            size = (int(round(h * self.short_side / w)), self.short_side)
        results['imgs'] = resize_frames(imgs, size)
        results['img_shape'] = results['imgs'].shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(short_side={self.short_side}, scale={self.scale})'
