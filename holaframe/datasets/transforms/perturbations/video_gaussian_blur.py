"""DeeperForensics-1.0 Gaussian blur (GB)."""

from typing import Dict

import cv2
import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['VideoGaussianBlur']


@TRANSFORMS.register_module()
class VideoGaussianBlur(BasePerturbation):
    """Blur every frame with a square Gaussian kernel.

    DeeperForensics-1.0 (Jiang et al., CVPR 2020), distortion ``GB``: OpenCV's ``GaussianBlur``
    with kernel sizes 7, 9, 13, 17, 21 (levels 1..5) and standard deviation ``size / 6`` in
    both directions (reflected borders). Deterministic (no random draw).

    Args:
        level: 0 (identity) or 1..5.
        seed: Unused (kept for a uniform interface).
    """

    name = 'gaussian_blur'
    modality = 'video'
    levels = (7, 9, 13, 17, 21)
    parameter = 'kernel size (sigma = size / 6)'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Blur (T, H, W, 3) uint8 frames."""
        k = int(self.value)
        out = np.empty_like(data)
        for i in range(data.shape[0]):
            out[i] = cv2.GaussianBlur(data[i], (k, k), k / 6.0)
        return out
