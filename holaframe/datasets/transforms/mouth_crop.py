"""Crop a fixed relative mouth box from aligned face frames."""

from typing import Dict, Optional, Sequence, Tuple, Union

from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from .video_resize import resize_frames

__all__ = ['MouthCrop']


@TRANSFORMS.register_module()
class MouthCrop(BaseTransform):
    """Crop the mouth region, a fixed box relative to the frame, and optionally resize it.

    AV-Deepfake1M clips (and the synthetic ones) are face-aligned, so the mouth sits in a
    stable part of the frame; the default box covers the lower-middle of the face.

    Args:
        box: (x0, y0, x1, y1) as fractions of the frame width / height.
        size: Output side (int) or (height, width); None keeps the native crop.
    """

    def __init__(self, box: Sequence[float] = (0.25, 0.45, 0.75, 0.95),
                 size: Optional[Union[int, Tuple[int, int]]] = 84) -> None:
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f'box must satisfy 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1: {box}')
        self.box = (x0, y0, x1, y1)
        self.size = (size, size) if isinstance(size, int) else (
            tuple(size) if size is not None else None)

    def transform(self, results: Dict) -> Dict:
        """Crop (and resize) the frames."""
        imgs = results['imgs']
        h, w = imgs.shape[1:3]
        x0, y0, x1, y1 = self.box
        xa, xb = int(round(x0 * w)), max(int(round(x1 * w)), int(round(x0 * w)) + 1)
        ya, yb = int(round(y0 * h)), max(int(round(y1 * h)), int(round(y0 * h)) + 1)
        crop = imgs[:, ya:yb, xa:xb]
        if self.size is not None:
            crop = resize_frames(crop, self.size)
        results['imgs'] = crop
        results['img_shape'] = crop.shape[1:3]
        results['mouth_box'] = (xa, ya, xb, yb)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(box={self.box}, size={self.size})'
