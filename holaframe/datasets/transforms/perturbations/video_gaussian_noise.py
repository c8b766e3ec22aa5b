"""DeeperForensics-1.0 white Gaussian noise in the colour components (GNC)."""

from typing import Dict

import cv2
import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation
from .frame_ops import YCRCB_TO_RGB, frame_chunks

__all__ = ['VideoGaussianNoise']


@TRANSFORMS.register_module()
class VideoGaussianNoise(BasePerturbation):
    """Add white Gaussian noise to Y, Cb and Cr of every pixel, independently per frame.

    DeeperForensics-1.0 (Jiang et al., CVPR 2020), distortion ``GNC``: noise of variance 0.001,
    0.002, 0.005, 0.01, 0.05 (levels 1..5) is added to the studio-swing YCbCr values on the
    [0, 1] scale (code value / 255, Y in [16, 235], Cb/Cr in [16, 240], ITU-R BT.601), then the
    frame goes back to RGB, clipped and truncated to uint8. In 0..255 units the luma noise has a
    standard deviation of ``255 * sqrt(variance) * 255 / 219``: 9.4 at level 1, 66 at level 5.
    Since the conversions are linear, the YCbCr noise is mapped to RGB with OpenCV's YCrCb -> RGB
    matrix and added to the frames directly (one OpenCV ``transform`` and ``add`` per chunk of
    frames). The normal draws are OpenCV's ``randn`` (its per-thread generator, seeded from the
    clip's generator: the drawing dominates the cost, and OpenCV's is about 4x faster than
    NumPy's).

    Args:
        level: 0 (identity) or 1..5.
        seed: None (global NumPy generator) or an integer (per-clip generator).
    """

    name = 'gaussian_noise'
    modality = 'video'
    levels = (0.001, 0.002, 0.005, 0.01, 0.05)
    parameter = 'YCbCr noise variance'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Add the noise to (T, H, W, 3) uint8 RGB frames."""
        std = np.sqrt(float(self.value)) * 255.0
        # Noise on studio-swing values s = (16 + 219 y) / 255 is noise of std * 255 / 219 on the
        # full-range luma y (224 for the chroma); columns Y, Cr, Cb as the matrix's. The -0.5
        # offset makes OpenCV's rounding to uint8 the protocol's truncation.
        scale = np.array([255.0 / 219.0, 255.0 / 224.0, 255.0 / 224.0], np.float32) * std
        mix = np.concatenate([YCRCB_TO_RGB * scale[None, :], np.full((3, 1), -0.5, np.float32)],
                             axis=1)
        # OpenCV's generator (about 4x faster than NumPy's normal draws on one core; per thread),
        # seeded from the clip's generator.
        cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
        out = np.empty_like(data)
        for part in frame_chunks(data):
            frames = data[part]
            t, h, w, _ = frames.shape
            noise = np.empty((t * h, w, 3), np.float32)
            cv2.randn(noise, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
            noise = cv2.transform(noise, mix)
            out[part] = cv2.add(frames.reshape(t * h, w, 3), noise,
                                dtype=cv2.CV_8U).reshape(frames.shape)
        return out
