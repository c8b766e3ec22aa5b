"""DeeperForensics-1.0 colour contrast change (CC): intensities scaled towards black."""

from typing import Dict

import cv2
import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['VideoColorContrast']


@TRANSFORMS.register_module()
class VideoColorContrast(BasePerturbation):
    """Multiply every pixel value by the level's factor (contrast and brightness fall).

    DeeperForensics-1.0 (Jiang et al., CVPR 2020), distortion ``CC``: ``x <- floor(x * factor)``
    on the 0..255 RGB values, factors 0.85, 0.725, 0.6, 0.475, 0.35 for levels 1..5 (smaller is
    stronger). Deterministic (no random draw).

    Args:
        level: 0 (identity) or 1..5.
        seed: Unused (kept for a uniform interface).
    """

    name = 'color_contrast'
    modality = 'video'
    levels = (0.85, 0.725, 0.6, 0.475, 0.35)
    parameter = 'intensity factor'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Scale (T, H, W, 3) uint8 frames (through a 256-entry table: no float copy)."""
        table = (np.arange(256, dtype=np.float32) * np.float32(self.value)).astype(np.uint8)
        t, h, w, c = data.shape
        return cv2.LUT(data.reshape(t * h, w, c), table).reshape(data.shape)
