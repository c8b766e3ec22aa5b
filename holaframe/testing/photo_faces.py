"""Talking photographs: real faces from ``skimage.data`` with a warped, opening mouth.

The second synthetic generator's face renderer (:mod:`.photo_avdf`, ``docs/generalisation.md``).
Three photographs shipped inside the scikit-image wheel (nothing is downloaded) carry a face
whose mouth was annotated by hand (centre, half-width, lip line, in image pixels):

* ``astronaut``: Eileen Collins, frontal, smiling (NASA, public domain);
* ``camera``: the cameraman, in profile, greyscale;
* ``chelsea``: a cat's face (Stefan van der Walt), mouth below the nose.

A clip shows one photograph, possibly mirrored, colour-graded and scaled so the face is
90-130 px wide in a 224 x 224 frame, placed off-centre (the mouth up to about 30 px from the
frame's centre column) and moving a little (slow translation, rotation and scale drift). The
mouth opens by a smooth displacement field (:func:`warp_mouth`): the lower lip and the jaw move
down, a dark lens-shaped cavity (upper teeth for the human faces) appears between the lips.

:func:`lipsync_patch` is the artefact of a lip-sync generator on the frames it re-renders: the
lower face is re-rendered at a lower resolution, with a colour and sharpness mismatch, pasted
with a jittering position and blended with a narrow (visible) seam.
"""

import functools
from dataclasses import dataclass
from typing import Dict, Tuple

import cv2
import numpy as np

__all__ = ['PHOTOS', 'PhotoFace', 'load_photo', 'random_face', 'render_frame', 'warp_mouth',
           'lipsync_patch', 'mouth_centre']

#: Hand-annotated faces: (face width in px, mouth centre x, lip line y, mouth half-width, human)
PHOTOS: Dict[str, Tuple[float, float, float, float, bool]] = {
    'astronaut': (90.0, 225.0, 149.0, 20.0, True),
    'camera': (80.0, 236.0, 175.0, 11.0, True),
    'chelsea': (160.0, 258.0, 268.0, 16.0, False),
}
_PAD = 160  # reflected border around each photograph, so crops and warps stay inside


@functools.cache
def load_photo(name: str) -> np.ndarray:
    """The RGB uint8 photograph ``name`` with a reflected border of ``_PAD`` px (read-only).

    Raises:
        ImportError: scikit-image is not installed (``pip install scikit-image``).
    """
    try:
        from skimage import data
    except ImportError as e:  # pragma: no cover - a declared dependency of this generator
        raise ImportError('photo_faces.py: the photo generator needs scikit-image '
                          '(pip install scikit-image==0.26.0); its photographs ship in the '
                          'wheel') from e
    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., :3])
    # the bottom edge is replicated (a mirrored edge would repeat a mouth close to it)
    img = cv2.copyMakeBorder(img, 0, _PAD, 0, 0, cv2.BORDER_REPLICATE)
    img = cv2.copyMakeBorder(img, _PAD, 0, _PAD, _PAD, cv2.BORDER_REFLECT_101)
    img.setflags(write=False)
    return img


@dataclass
class PhotoFace:
    """One clip's speaker: the graded photograph and its motion.

    Args:
        image: Graded (and possibly mirrored) RGB photograph with its border.
        mouth: ``(x, lip line y, half-width)`` in ``image`` pixels.
        human: Draw teeth in the open mouth.
        scale: Photograph pixels -> frame pixels.
        anchor: Frame position of the mouth centre at rest.
        motion: Amplitudes, frequencies and phases of the drift (see :func:`_affine`).
        cavity: RGB colour of the open mouth's inside.
        noise: Standard deviation of the per-frame sensor noise (grey levels).
    """

    image: np.ndarray
    mouth: Tuple[float, float, float]
    human: bool
    scale: float
    anchor: Tuple[float, float]
    motion: np.ndarray
    cavity: np.ndarray
    noise: float


def random_face(rng: np.random.Generator, frame_hw: Tuple[int, int] = (224, 224)) -> PhotoFace:
    """Draw a photograph, its grading, size, placement and motion for one clip.

    Args:
        rng: Random generator.
        frame_hw: (height, width) of the frames; sizes scale with the height (224 = 1).
    """
    name = str(rng.choice(list(PHOTOS), p=[0.4, 0.35, 0.25]))
    face_w, mx, my, mhw, human = PHOTOS[name]
    img = load_photo(name).astype(np.float32)
    mx, my = mx + _PAD, my + _PAD
    if rng.random() < 0.5:  # mirrored
        img = img[:, ::-1]
        mx = img.shape[1] - 1 - mx
    # colour grading: per-channel gain, gamma, saturation
    gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    gamma = float(rng.uniform(0.8, 1.25))
    img = 255.0 * (np.clip(img * gain / 255.0, 0, 1) ** gamma)
    grey = img.mean(2, keepdims=True)
    img = grey + float(rng.uniform(0.6, 1.2)) * (img - grey)
    image = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    s = frame_hw[0] / 224.0
    scale = float(rng.uniform(90, 130)) * s / face_w
    anchor = (frame_hw[1] / 2 + float(rng.uniform(-28, 28)) * s,
              frame_hw[0] * 0.67 + float(rng.uniform(-20, 20)) * s)
    motion = np.array([rng.uniform(1.5, 5) * s, rng.uniform(1, 4) * s,  # x, y amplitude (px)
                       rng.uniform(0.5, 3.0),  # rotation amplitude (deg)
                       rng.uniform(0.01, 0.03),  # scale amplitude
                       *rng.uniform(0.08, 0.4, 4),  # frequencies (Hz)
                       *rng.uniform(0, 2 * np.pi, 4),  # phases
                       rng.uniform(-6, 6)])  # base rotation (deg)
    lips = image[int(my - 0.3 * mhw):int(my + 0.3 * mhw), int(mx - mhw):int(mx + mhw)]
    cavity = lips.reshape(-1, 3).mean(0) * rng.uniform(0.2, 0.35)
    return PhotoFace(image=image, mouth=(mx, my, mhw), human=human, scale=scale,
                     anchor=anchor, motion=motion, cavity=cavity,
                     noise=float(rng.uniform(0.8, 2.5)))


def _affine(face: PhotoFace, t: int, fps: int = 25) -> np.ndarray:
    """2 x 3 matrix mapping photograph pixels to frame pixels at frame ``t``."""
    m = face.motion
    sec = t / fps
    dx = m[0] * np.sin(2 * np.pi * m[4] * sec + m[8])
    dy = m[1] * np.sin(2 * np.pi * m[5] * sec + m[9])
    angle = m[12] + m[2] * np.sin(2 * np.pi * m[6] * sec + m[10])
    scale = face.scale * (1 + m[3] * np.sin(2 * np.pi * m[7] * sec + m[11]))
    mx, my, _ = face.mouth
    a = cv2.getRotationMatrix2D((mx, my), angle, scale)
    a[0, 2] += face.anchor[0] + dx - mx
    a[1, 2] += face.anchor[1] + dy - my
    return a


def mouth_centre(face: PhotoFace, t: int) -> Tuple[float, float, float]:
    """Frame position of the mouth centre and the mouth half-width in frame pixels."""
    a = _affine(face, t)
    mx, my, mhw = face.mouth
    x, y = a @ np.array([mx, my, 1.0])
    return float(x), float(y), float(mhw * np.hypot(a[0, 0], a[0, 1]))


def warp_mouth(face: PhotoFace, opening: float) -> Tuple[np.ndarray, Tuple[int, int]]:
    """The mouth region of the photograph with the mouth opened by ``opening`` in [0, 1].

    Backward displacement field: below the lip line, pixels move down by
    ``opening * 0.6 * half-width`` times a horizontal weight (1 at the mouth centre, 0 beyond
    1.6 half-widths) and a vertical weight (1 for the lower lip, fading to 0 at the chin);
    above, the upper lip lifts by a fifth of that. A lens-shaped dark cavity fills the gap.

    Returns:
        The RGB region and its top-left corner ``(x0, y0)`` in photograph pixels.
    """
    mx, my, hw = face.mouth
    x0, x1 = int(mx - 2.0 * hw), int(mx + 2.0 * hw) + 1
    y0, y1 = int(my - 1.2 * hw), int(my + 3.2 * hw) + 1
    roi = face.image[y0:y1, x0:x1]
    if opening <= 0.02:
        return roi.copy(), (x0, y0)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u = (xs - mx) / (1.6 * hw)
    wx = np.clip(1 - u * u, 0, 1) ** 1.5
    drop = opening * 0.6 * hw
    below = ys >= my
    v = (ys - my) / (3.0 * hw)
    wy_down = np.where(v < 0.25, 1.0, np.clip(1 - (v - 0.25) / 0.75, 0, 1) ** 2)
    vu = (my - ys) / (1.0 * hw)
    wy_up = np.clip(1 - vu, 0, 1) ** 2
    disp = np.where(below, drop * wx * wy_down, -0.2 * drop * wx * wy_up)
    map_x = xs - x0
    map_y = np.clip(ys - disp - y0, 0, y1 - y0 - 1).astype(np.float32)
    out = cv2.remap(roi, map_x.astype(np.float32), map_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
    # lens-shaped cavity between the lifted upper lip and the lowered lower lip
    cu = (xs - mx) / (0.85 * hw)
    cw = np.clip(1 - cu * cu, 0, 1) ** 0.7
    top = my - 0.2 * drop * cw
    bottom = my + drop * cw
    inside = np.clip(np.minimum(ys - top, bottom - ys) / 1.2 + 0.5, 0, 1) * (cw > 0)
    depth = np.clip((ys - top) / np.maximum(bottom - top, 1), 0, 1)
    colour = face.cavity[None, None, :] * (0.6 + 0.4 * depth[..., None])
    if face.human and opening > 0.25:
        teeth = (depth < 0.3)[..., None]
        colour = np.where(teeth, np.array([215.0, 205.0, 190.0]) * (0.8 + 0.2 * depth[..., None]),
                          colour)
    alpha = inside[..., None]
    out = out * (1 - alpha) + colour * alpha
    return np.clip(out, 0, 255).astype(np.uint8), (x0, y0)


def render_frame(face: PhotoFace, t: int, opening: float, size: Tuple[int, int],
                 noise: np.ndarray) -> np.ndarray:
    """Frame ``t`` (RGB, ``size`` = (height, width)) with the mouth open by ``opening``.

    Args:
        face: The clip's speaker.
        t: Frame index (drives the motion).
        opening: Mouth opening in [0, 1].
        size: Output (height, width).
        noise: An int16 noise image of at least ``size`` added to the frame (sensor noise).
    """
    region, (x0, y0) = warp_mouth(face, opening)
    h, w = region.shape[:2]
    img = face.image
    saved = img[y0:y0 + h, x0:x0 + w].copy()
    img[y0:y0 + h, x0:x0 + w] = region
    frame = cv2.warpAffine(img, _affine(face, t), (size[1], size[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101)
    img[y0:y0 + h, x0:x0 + w] = saved
    out = frame.astype(np.int16) + noise[:size[0], :size[1]]
    return np.clip(out, 0, 255).astype(np.uint8)


def lipsync_patch(real: np.ndarray, generated: np.ndarray, centre: Tuple[float, float, float],
                  rng: np.random.Generator, style: Dict) -> np.ndarray:
    """Paste a lip-sync generator's lower face from ``generated`` into ``real``.

    Args:
        real: The untouched frame (RGB uint8).
        generated: The frame rendered with the generator's mouth opening.
        centre: Mouth centre ``(x, y)`` and half-width in frame pixels.
        rng: Random generator (per-frame jitter).
        style: The generator's artefacts: ``down`` (resolution factor of the re-rendered patch),
            ``blur`` (Gaussian sigma in px), ``colour`` (RGB offset), ``contrast``, ``feather``
            (blend width in px), ``jitter`` (max per-frame position error in px), ``rect``
            (a rectangular instead of an elliptical blend mask).

    Returns:
        The composited frame.
    """
    h, w = real.shape[:2]
    cx, cy, hw = centre
    bw, bh = 2.4 * hw, 2.2 * hw  # half-sizes of the re-rendered lower-face box
    x0, x1 = int(max(cx - bw, 0)), int(min(cx + bw, w))
    y0, y1 = int(max(cy - 0.9 * hw, 0)), int(min(cy + bh, h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return real
    patch = generated[y0:y1, x0:x1].astype(np.float32)
    ph, pw = patch.shape[:2]
    small = cv2.resize(patch, (max(int(pw * style['down']), 2), max(int(ph * style['down']), 2)),
                       interpolation=cv2.INTER_AREA)
    patch = cv2.resize(small, (pw, ph), interpolation=cv2.INTER_LINEAR)
    if style['blur'] > 0:
        patch = cv2.GaussianBlur(patch, (0, 0), style['blur'])
    mean = patch.mean((0, 1), keepdims=True)
    patch = (patch - mean) * style['contrast'] + mean + np.asarray(style['colour'], np.float32)
    j = style['jitter']
    dx, dy = (int(rng.integers(-j, j + 1)) for _ in range(2)) if j > 0 else (0, 0)
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    patch = cv2.warpAffine(patch, m, (pw, ph), borderMode=cv2.BORDER_REPLICATE)
    ys, xs = np.mgrid[0:ph, 0:pw].astype(np.float32)
    f = max(style['feather'], 0.5)
    if style['rect']:
        dist = np.minimum.reduce([xs, pw - 1 - xs, ys, ph - 1 - ys])
    else:
        ex, ey = (xs - (cx - x0)) / bw, (ys - (cy - y0)) / bh
        dist = (1 - np.sqrt(ex * ex + ey * ey)) * min(bw, bh)
    alpha = np.clip(dist / f, 0, 1)[..., None]
    out = real.astype(np.float32)
    out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - alpha) + patch * alpha
    return np.clip(out, 0, 255).astype(np.uint8)
