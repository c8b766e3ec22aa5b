"""DeeperForensics-1.0 local block-wise distortion (BW): grey 8 x 8 blocks at random places."""

from typing import Dict

import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['VideoBlockOcclusion']


@TRANSFORMS.register_module()
class VideoBlockOcclusion(BasePerturbation):
    """Paint grey (128) 8 x 8 blocks at uniformly random places, drawn anew for every frame.

    DeeperForensics-1.0 (Jiang et al., CVPR 2020), distortion ``BW``: 16, 32, 48, 64, 80 blocks
    per 256 pixels of the frame's short side for levels 1..5; a block's top-left corner is
    uniform in ``[0, W - 9] x [0, H - 9]``. The published code takes ``(short side // 256) *
    blocks``, which paints no block at all on frames under 256 pixels (the 224 px clips of
    AV-Deepfake1M); here the count is ``round(short side / 256 * blocks)`` (at least 1), the
    same for short sides that are multiples of 256 and proportional to the frame otherwise.

    Args:
        level: 0 (identity) or 1..5.
        seed: None (global NumPy generator) or an integer (per-clip generator).
    """

    name = 'block_occlusion'
    modality = 'video'
    levels = (16, 32, 48, 64, 80)
    parameter = 'blocks per 256 px'
    block = 8
    grey = 128

    def num_blocks(self, height: int, width: int) -> int:
        """Blocks painted on one frame of this size."""
        return max(1, int(round(min(height, width) / 256 * self.value)))

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Paint the blocks on (T, H, W, 3) uint8 frames (a copy)."""
        t, h, w, _ = data.shape
        b = self.block
        if h <= b + 1 or w <= b + 1:
            raise ValueError(f'frames of {h} x {w} px are too small for {b} x {b} blocks')
        n = self.num_blocks(h, w)
        ys = rng.integers(0, h - b, size=(t, n), endpoint=False)
        xs = rng.integers(0, w - b, size=(t, n), endpoint=False)
        out = data.copy()
        for i in range(t):
            frame = out[i]
            for y, x in zip(ys[i], xs[i]):
                frame[y:y + b, x:x + b] = self.grey
        return out
