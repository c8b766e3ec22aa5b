"""Helpers of the video perturbations: uint8 conversion and frame chunks of bounded memory."""

from typing import Iterator

import numpy as np

__all__ = ['to_uint8', 'frame_chunks', 'LUMA', 'YCRCB_TO_RGB']

#: ITU-R BT.601 luma weights of R, G, B (OpenCV's YCrCb conversion).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: OpenCV's YCrCb -> RGB matrix: columns Y, Cr - 0.5, Cb - 0.5 (float images in [0, 1]).
YCRCB_TO_RGB = np.array([[1.0, 1.403, 0.0], [1.0, -0.714, -0.344], [1.0, 0.0, 1.773]],
                        np.float32)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float frames in [0, 255] to uint8 as the protocol writes them: clipped, then truncated."""
    return np.clip(frames, 0, 255).astype(np.uint8)


def frame_chunks(frames: np.ndarray, max_pixels: int = 1 << 22) -> Iterator[slice]:
    """Slices over the first axis of (T, H, W, 3) frames holding at most ``max_pixels`` pixels
    each (at least one frame), so float copies stay small for long or large clips."""
    t, h, w = frames.shape[:3]
    step = max(1, int(max_pixels // max(h * w, 1)))
    for start in range(0, t, step):
        yield slice(start, min(start + step, t))
