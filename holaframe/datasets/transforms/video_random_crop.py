"""Random crop (the same box for every frame of the clip)."""

from typing import Dict, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoRandomCrop']


@TRANSFORMS.register_module()
class VideoRandomCrop(BaseTransform):
    """Crop a random (height, width) = ``crop_size`` box, identical across the clip's frames.

    Args:
        crop_size: Side (int) or (height, width); must fit in the frames.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]] = 224) -> None:
        self.crop_size = ((crop_size, crop_size) if isinstance(crop_size, int)
                          else (int(crop_size[0]), int(crop_size[1])))

    def transform(self, results: Dict) -> Dict:
        """Crop the frames."""
        imgs = results['imgs']
        h, w = imgs.shape[1:3]
        ch, cw = self.crop_size
        if ch > h or cw > w:
            raise ValueError(f'{results.get("filename")}: crop {self.crop_size} larger than '
                             f'frames {(h, w)}; resize first')
        y = np.random.randint(0, h - ch + 1)
        x = np.random.randint(0, w - cw + 1)
        results['imgs'] = imgs[:, y:y + ch, x:x + cw]
        results['img_shape'] = (ch, cw)
        results['crop_box'] = (x, y, x + cw, y + ch)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size})'
