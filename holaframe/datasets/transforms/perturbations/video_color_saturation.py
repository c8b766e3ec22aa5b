"""DeeperForensics-1.0 colour saturation change (CS): chroma scaled towards grey."""

from typing import Dict

import cv2
import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation
from .frame_ops import LUMA, frame_chunks

__all__ = ['VideoColorSaturation']


@TRANSFORMS.register_module()
class VideoColorSaturation(BasePerturbation):
    """Scale the chroma (Cb, Cr) of every frame by the level's factor around neutral grey.

    DeeperForensics-1.0 (Jiang et al., CVPR 2020), distortion ``CS``: in YCbCr (ITU-R BT.601),
    ``C <- 0.5 + (C - 0.5) * factor`` for Cb and Cr on the [0, 1] scale, luma unchanged; factors
    0.4, 0.3, 0.2, 0.1, 0.0 for levels 1..5 (smaller is stronger; level 5 is greyscale). Since
    YCbCr is linear in RGB this is ``RGB <- Y + factor * (RGB - Y)`` with
    ``Y = 0.299 R + 0.587 G + 0.114 B``, computed here in one OpenCV ``transform`` per chunk of
    frames and rounded to uint8 (the published code converts through float YCbCr and truncates;
    the two differ by at most one grey level). Deterministic (no random draw).

    Args:
        level: 0 (identity) or 1..5.
        seed: Unused (kept for a uniform interface).
    """

    name = 'color_saturation'
    modality = 'video'
    levels = (0.4, 0.3, 0.2, 0.1, 0.0)
    parameter = 'chroma factor'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Scale the chroma of (T, H, W, 3) uint8 RGB frames."""
        f = float(self.value)
        matrix = (f * np.eye(3) + (1.0 - f) * np.tile(LUMA, (3, 1))).astype(np.float32)
        out = np.empty_like(data)
        for part in frame_chunks(data):
            frames = data[part]
            t, h, w, _ = frames.shape
            out[part] = cv2.transform(frames.reshape(t * h, w, 3), matrix).reshape(frames.shape)
        return out
