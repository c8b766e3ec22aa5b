"""Tiny H.264 + AAC clips whose frames encode their own index.

Frame ``i`` shows ``i`` in binary as a 4 x 4 grid of black and white blocks, which survives
lossy encoding, so a decoded frame tells which frame it is (:func:`decode_index`): frame
sampling, seeking and audio-video alignment are checked against exact indices.
"""

from typing import List

import numpy as np

from holaframe.testing.synthetic_avdf import write_av_clip

GRID = 4  # 4 x 4 blocks = 16 bits per frame


def indexed_frames(n: int, size: int = 32) -> List[np.ndarray]:
    """``n`` RGB frames of ``size``; frame i shows i in binary as black/white blocks."""
    block = size // GRID
    frames = []
    for i in range(n):
        img = np.zeros((size, size, 3), np.uint8)
        for b in range(GRID * GRID):
            if (i >> b) & 1:
                y, x = divmod(b, GRID)
                img[y * block:(y + 1) * block, x * block:(x + 1) * block] = 255
        frames.append(img)
    return frames


def decode_index(img: np.ndarray) -> int:
    """Read back the index drawn by :func:`indexed_frames`."""
    size = img.shape[0]
    block = size // GRID
    value = 0
    for b in range(GRID * GRID):
        y, x = divmod(b, GRID)
        centre = img[y * block + block // 4:(y + 1) * block - block // 4,
                     x * block + block // 4:(x + 1) * block - block // 4]
        if centre.mean() > 127:
            value |= 1 << b
    return value


def sine_tone(duration: float, freq: float = 440.0, sr: int = 16000,
              amp: float = 0.3) -> np.ndarray:
    """A sine tone of ``duration`` seconds at ``sr`` Hz."""
    t = np.arange(int(round(duration * sr))) / sr
    return amp * np.sin(2 * np.pi * freq * t)


def make_indexed_clip(path: str, num_frames: int, size: int = 32, audio: bool = True,
                      preset: str = 'ultrafast') -> str:
    """Write an indexed clip at 25 fps (with a 440 Hz tone unless ``audio`` is False).

    Args:
        path (str): Output ``.mp4`` file.
        num_frames (int): Number of frames.
        size (int): Frame side in pixels. Defaults to 32.
        audio (bool): Write an audio stream. Defaults to True.
        preset (str): x264 preset. Defaults to ``'ultrafast'``.

    Returns:
        str: ``path``.
    """
    wave = sine_tone(num_frames / 25) if audio else None
    write_av_clip(path, indexed_frames(num_frames, size), wave, preset=preset)
    return path
