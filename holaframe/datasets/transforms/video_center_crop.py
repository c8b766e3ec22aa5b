"""Centre crop of every frame."""

from typing import Dict, Tuple, Union

from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoCenterCrop']


def _pair(size: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@TRANSFORMS.register_module()
class VideoCenterCrop(BaseTransform):
    """Crop the centre (height, width) = ``crop_size`` of every frame.

    Args:
        crop_size: Side (int) or (height, width); must fit in the frames.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]] = 224) -> None:
        self.crop_size = _pair(crop_size)

    def transform(self, results: Dict) -> Dict:
        """Crop the frames."""
        imgs = results['imgs']
        h, w = imgs.shape[1:3]
        ch, cw = self.crop_size
        if ch > h or cw > w:
            raise ValueError(f'{results.get("filename")}: crop {self.crop_size} larger than '
                             f'frames {(h, w)}; resize first')
        y, x = (h - ch) // 2, (w - cw) // 2
        results['imgs'] = imgs[:, y:y + ch, x:x + cw]
        results['img_shape'] = (ch, cw)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size})'
