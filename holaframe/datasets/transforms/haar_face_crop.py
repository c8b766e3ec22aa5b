"""Face cropping for in-the-wild videos with OpenCV's offline Haar cascade."""

from typing import Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['HaarFaceCrop']


@TRANSFORMS.register_module()
class HaarFaceCrop(BaseTransform):
    """Crop a square box around the largest face, the same box for the whole clip.

    The face is detected with ``haarcascade_frontalface_default.xml`` (shipped with
    ``opencv-python<5``) on ``num_probe`` evenly spaced sampled frames; the median box of the
    detections is enlarged by ``scale`` and made square. Without any detection the centre square
    of the frame is used (``fallback='center'``) or the frames are kept (``'none'``).

    Args:
        scale: Enlargement of the detected box.
        num_probe: Number of frames searched for a face.
        min_face: Minimum face side as a fraction of the frame's short side.
        fallback: ``'center'`` or ``'none'``.
    """

    _cascade = None

    def __init__(self, scale: float = 1.3, num_probe: int = 3, min_face: float = 0.1,
                 fallback: str = 'center') -> None:
        if fallback not in ('center', 'none'):
            raise ValueError(f"fallback must be 'center' or 'none', got {fallback!r}")
        self.scale = scale
        self.num_probe = num_probe
        self.min_face = min_face
        self.fallback = fallback

    @classmethod
    def cascade(cls) -> 'cv2.CascadeClassifier':
        """The (lazily loaded) Haar cascade."""
        if cls._cascade is None:
            path = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
            clf = cv2.CascadeClassifier(path)
            if clf.empty():
                raise RuntimeError(f'{path}: Haar cascade not found (needs opencv-python<5)')
            cls._cascade = clf
        return cls._cascade

    def transform(self, results: Dict) -> Dict:
        """Detect the face and crop every frame."""
        imgs = results['imgs']
        t, h, w = imgs.shape[:3]
        min_side = max(int(self.min_face * min(h, w)), 16)
        boxes = []
        for i in np.linspace(0, t - 1, min(self.num_probe, t)).round().astype(int):
            gray = cv2.cvtColor(imgs[i], cv2.COLOR_RGB2GRAY)
            faces = self.cascade().detectMultiScale(gray, 1.1, 5, minSize=(min_side, min_side))
            if len(faces):
                boxes.append(max(faces, key=lambda b: b[2] * b[3]))
        if boxes:
            x, y, bw, bh = np.median(np.asarray(boxes, np.float64), axis=0)
            cx, cy, side = x + bw / 2, y + bh / 2, max(bw, bh) * self.scale
        elif self.fallback == 'center':
            cx, cy, side = w / 2, h / 2, min(h, w)
        else:
            results['face_box'] = None
            return results
        side = int(min(side, h, w))
        x0 = int(np.clip(round(cx - side / 2), 0, w - side))
        y0 = int(np.clip(round(cy - side / 2), 0, h - side))
        results['imgs'] = imgs[:, y0:y0 + side, x0:x0 + side]
        results['img_shape'] = (side, side)
        results['face_box'] = (x0, y0, x0 + side, y0 + side)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale={self.scale}, fallback={self.fallback!r})'
