"""Random head and camera motion, and skin texture, for a clip's (mouth) crops."""

from typing import Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['VideoRandomCameraMotion']


@TRANSFORMS.register_module()
class VideoRandomCameraMotion(BaseTransform):
    """Move a clip's frames along a smooth random path and give them a texture that moves along.

    A training source whose faces sit still and are drawn in flat colour teaches a video encoder
    that every change in the crop is the mouth; in-the-wild video (and the tracked crops of a
    face detector) add head sway, drift, zoom, tracking jitter and skin texture that moves with
    them. This augmentation shows those to the encoder, so that it learns to read the mouth
    through them. Per clip, with probability ``prob``:

    * **texture**: a static random pattern (Gaussian noise low-pass filtered to blobs of
      ``texture_scale`` of the crop) multiplies the image by ``1 + c * pattern`` with
      ``c`` drawn from ``[0, texture]``, before the motion, so the pattern moves with the face;
    * **motion**: each of shift x, shift y (fractions of the crop side, up to ``max_shift``),
      rotation (degrees, up to ``max_rotation``) and log zoom (up to ``log(1 + max_zoom)``)
      follows ``A sin(2 pi f t + phi) + D (t / T - 1/2)``: a sway of amplitude ``A`` at ``f``
      Hz in ``[0.2, 1.5]`` plus a drift ``D`` across the clip, both drawn per clip and
      together within the limit; plus per-frame jitter of ``jitter`` px (standard deviation).

    Frames are warped with ``cv2.warpAffine`` (bilinear, reflected border) about the crop's
    centre. ``results['imgs']`` is ``(T, H, W, C)`` uint8.

    Args:
        prob (float): Probability that a clip is moved and textured.
        max_shift (float): Largest shift, as a fraction of the crop side.
        max_rotation (float): Largest rotation in degrees.
        max_zoom (float): Largest relative zoom.
        jitter (float): Per-frame position noise in pixels (standard deviation).
        texture (float): Largest texture contrast ``c`` (0: none).
        texture_scale (float): Size of the texture's blobs as a fraction of the crop side.
        fps (float): Frame rate, for the sway frequencies.
    """

    def __init__(self, prob: float = 0.8, max_shift: float = 0.06, max_rotation: float = 6.0,
                 max_zoom: float = 0.05, jitter: float = 0.3, texture: float = 0.3,
                 texture_scale: float = 0.08, fps: float = 25.0) -> None:
        for name, value in dict(prob=prob, max_shift=max_shift, max_rotation=max_rotation,
                                max_zoom=max_zoom, jitter=jitter, texture=texture).items():
            if value < 0:
                raise ValueError(f'VideoRandomCameraMotion: {name} must be >= 0, got {value}')
        if prob > 1:
            raise ValueError(f'VideoRandomCameraMotion: prob must be <= 1, got {prob}')
        if texture_scale <= 0 or fps <= 0:
            raise ValueError(f'VideoRandomCameraMotion: texture_scale and fps must be > 0, got '
                             f'{texture_scale} and {fps}')
        self.prob = float(prob)
        self.max_shift = float(max_shift)
        self.max_rotation = float(max_rotation)
        self.max_zoom = float(max_zoom)
        self.jitter = float(jitter)
        self.texture = float(texture)
        self.texture_scale = float(texture_scale)
        self.fps = float(fps)

    def _path(self, t: int, limit: float) -> np.ndarray:
        """``(T,)``: sway plus drift, within ``[-limit, limit]``."""
        if limit == 0 or t == 0:
            return np.zeros(t)
        share = np.random.uniform()
        amp, drift = share * limit * np.random.uniform(), (1 - share) * limit * np.random.uniform()
        freq, phase = np.random.uniform(0.2, 1.5), np.random.uniform(0, 2 * np.pi)
        time = np.arange(t) / self.fps
        drift *= np.random.choice((-1.0, 1.0))
        return amp * np.sin(2 * np.pi * freq * time + phase) + drift * (np.arange(t) / t - 0.5)

    def _pattern(self, h: int, w: int) -> np.ndarray:
        """``(H, W, 1)`` smooth noise in about ``[-1, 1]``."""
        sigma = max(self.texture_scale * max(h, w), 0.5)
        noise = cv2.GaussianBlur(np.random.standard_normal((h, w)).astype(np.float32), (0, 0),
                                 sigma, borderType=cv2.BORDER_REFLECT)
        return (noise / max(float(np.abs(noise).max()), 1e-6))[..., None]

    def transform(self, results: Dict) -> Dict:
        """Move and texture the frames (or leave them, with probability ``1 - prob``)."""
        imgs = results['imgs']
        if imgs.ndim != 4:
            raise ValueError(f'{results.get("filename")}: VideoRandomCameraMotion expects imgs '
                             f'(T, H, W, C), got shape {imgs.shape}')
        if np.random.uniform() >= self.prob:
            return results
        t, h, w, c = imgs.shape
        frames = imgs.astype(np.float32)
        if self.texture > 0:
            frames = frames * (1.0 + np.random.uniform(0, self.texture) * self._pattern(h, w))
        side = float(max(h, w))
        dx = self._path(t, self.max_shift * side) + np.random.normal(0, self.jitter, t)
        dy = self._path(t, self.max_shift * side) + np.random.normal(0, self.jitter, t)
        angle = self._path(t, self.max_rotation)
        zoom = np.exp(self._path(t, np.log1p(self.max_zoom)))
        centre = ((w - 1) / 2.0, (h - 1) / 2.0)
        out = np.empty_like(imgs)
        for i in range(t):
            m = cv2.getRotationMatrix2D(centre, float(angle[i]), float(zoom[i]))
            m[:, 2] += (dx[i], dy[i])
            warped = cv2.warpAffine(frames[i], m, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT)
            out[i] = np.clip(warped.reshape(h, w, c) + 0.5, 0, 255).astype(imgs.dtype)
        results['imgs'] = out
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, max_shift={self.max_shift}, '
                f'max_rotation={self.max_rotation}, max_zoom={self.max_zoom}, '
                f'jitter={self.jitter}, texture={self.texture}, '
                f'texture_scale={self.texture_scale})')
