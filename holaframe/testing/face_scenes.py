"""Face-tracking test scenes: a real photograph pasted into 1280 x 720 frames, and their scores.

The photograph is scikit-image's ``astronaut`` (Eileen Collins, NASA, public domain; shipped
inside the ``scikit-image`` wheel, nothing is downloaded). Its face box
:data:`ASTRONAUT_FACE` was annotated by hand (eyebrows to chin, cheek to cheek, 90 x 100 px
in the 512 x 512 image). A scene pastes the photograph scaled so that the face is ``face_px``
wide, rotated by ``angle`` degrees about the face centre, with the face centre at a given point
of a blurred-noise background; parts of the photograph outside the frame are cut off.

:func:`evaluate_face_scenes` measures the detector on still frames and the tracker on moving
clips (the table of docs/face_tracking.md); the tests pin floors on the same numbers.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['ASTRONAUT_FACE', 'astronaut', 'paste_face', 'moving_face_clip',
           'evaluate_face_scenes', 'synthetic_face_frames', 'box_iou_one']

#: Hand-annotated face box ``(x0, y0, x1, y1)`` of ``skimage.data.astronaut()``.
ASTRONAUT_FACE = (178.0, 75.0, 268.0, 175.0)

FRAME_HW = (720, 1280)


def astronaut() -> np.ndarray:
    """The 512 x 512 RGB ``astronaut`` photograph (needs ``scikit-image``)."""
    from skimage import data
    return np.ascontiguousarray(data.astronaut()[..., :3])


def box_iou_one(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two boxes ``(x0, y0, x1, y1)``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def background(rng: np.random.Generator, hw: Tuple[int, int] = FRAME_HW) -> np.ndarray:
    """A blurred colour-noise frame (texture without faces)."""
    small = rng.integers(0, 256, (hw[0] // 16 + 1, hw[1] // 16 + 1, 3)).astype(np.uint8)
    return cv2.resize(small, (hw[1], hw[0]), interpolation=cv2.INTER_CUBIC)


def paste_face(canvas: np.ndarray, photo: np.ndarray, face_px: float, angle: float,
               centre: Tuple[float, float],
               face_box: Sequence[float] = ASTRONAUT_FACE) -> np.ndarray:
    """Paste ``photo`` into ``canvas`` (in place) with its face ``face_px`` wide at ``centre``.

    Returns:
        np.ndarray: The pasted face box ``(x0, y0, x1, y1)`` in canvas pixels (the annotated
        box scaled and moved; rotation keeps its centre and size).
    """
    fb = np.asarray(face_box, np.float64)
    s = face_px / (fb[2] - fb[0])
    patch = cv2.resize(photo, None, fx=s, fy=s,
                       interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    fc = ((fb[0] + fb[2]) / 2 * s, (fb[1] + fb[3]) / 2 * s)
    if angle:
        m = cv2.getRotationMatrix2D(fc, angle, 1.0)
        patch = cv2.warpAffine(patch, m, (patch.shape[1], patch.shape[0]),
                               borderMode=cv2.BORDER_REFLECT)
    h, w = canvas.shape[:2]
    ph, pw = patch.shape[:2]
    ox, oy = int(round(centre[0] - fc[0])), int(round(centre[1] - fc[1]))
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + pw, w), min(oy + ph, h)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = patch[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    bw, bh = (fb[2] - fb[0]) * s, (fb[3] - fb[1]) * s
    return np.array([centre[0] - bw / 2, centre[1] - bh / 2, centre[0] + bw / 2,
                     centre[1] + bh / 2])


def moving_face_clip(rng: np.random.Generator, faces: Sequence[Dict], num_frames: int = 32,
                     photo: Optional[np.ndarray] = None) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Frames ``(T, 720, 1280, 3)`` with faces moving on straight lines.

    Args:
        rng: Random generator (background).
        faces: Per face ``start`` and ``end`` centre ``(x, y)``, ``face_px`` (or ``start_px``
            and ``end_px``) and ``angle``; pasted in order (later ones on top).
        num_frames: Number of frames.
        photo: The photograph (default :func:`astronaut`).

    Returns:
        tuple: Frames and, per face, its boxes ``(T, 4)``.
    """
    photo = astronaut() if photo is None else photo
    bg = background(rng)
    frames = np.empty((num_frames, ) + bg.shape, np.uint8)
    boxes = [np.zeros((num_frames, 4)) for _ in faces]
    for t in range(num_frames):
        a = t / max(num_frames - 1, 1)
        frame = bg.copy()
        for k, f in enumerate(faces):
            start, end = np.asarray(f['start'], float), np.asarray(f['end'], float)
            px = f.get('face_px') or (1 - a) * f['start_px'] + a * f['end_px']
            boxes[k][t] = paste_face(frame, photo, px, f.get('angle', 0.0),
                                     tuple((1 - a) * start + a * end))
        frames[t] = frame
    return frames, boxes


def synthetic_face_frames(seed: int, hw: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """One frame of the synthetic cartoon speaker and the box of its face ellipse."""
    from .synthetic_avdf import _draw_frame, _face_params
    p = _face_params(np.random.default_rng(seed))
    img = _draw_frame(p, 0, 0.3, 1.0, hw)
    h, w = hw
    s = min(h, w) / 224.0
    ox, oy = (w - 224 * s) / 2, (h - 224 * s) / 2
    cx = ox + s * (p['cx'] + p['amp'][0] * np.sin(p['phase'][0]))
    cy = oy + s * (p['cy'] + p['amp'][1] * np.sin(p['phase'][1]))
    rx, ry = s * p['rx'], s * p['ry']
    return img, np.array([cx - rx, cy - ry, cx + rx, cy + ry])


def _still_case(detector, photo, rng, face_px, angle, n) -> Dict:
    hits, ious = 0, []
    for _ in range(n):
        frame = background(rng)
        h, w = frame.shape[:2]
        centre = (rng.uniform(face_px, w - face_px), rng.uniform(face_px, h - face_px))
        gt = paste_face(frame, photo, face_px, angle, centre)
        boxes, _ = detector(frame)
        best = max((box_iou_one(b, gt) for b in boxes), default=0.0)
        hits += best >= 0.5
        ious.append(best)
    return dict(detected=hits / n, iou=float(np.mean(ious)), n=n)


def _track_case(crop, rng, faces, num_frames, which=0) -> Dict:
    from holaframe.datasets.transforms.face_tracking import track_frame_boxes
    frames, gts = moving_face_clip(rng, faces, num_frames)
    tracks, keys = crop.find_tracks(frames)
    if len(tracks) <= which:
        return dict(detected=0.0, iou=0.0, n=num_frames, tracks=len(tracks))
    boxes, visible = track_frame_boxes(tracks[which], num_frames, crop.smooth,
                                       0.5 * num_frames / len(keys))
    gt = gts[0]
    inside = ((gt[:, 0] + gt[:, 2]) / 2 < 1280) & ((gt[:, 0] + gt[:, 2]) / 2 > 0)
    ious = np.array([box_iou_one(b, g) for b, g in zip(boxes, gt)])
    return dict(detected=float((ious[inside] >= 0.5).mean()), iou=float(ious[inside].mean()),
                n=int(inside.sum()), tracks=len(tracks),
                visible_agrees=float((visible == inside).mean()))


def evaluate_face_scenes(detector_name: str = 'dlib_hog', seed: int = 0, n: int = 10,
                         sizes: Sequence[int] = (60, 90, 150, 300),
                         angles: Sequence[float] = (0.0, 10.0, -15.0)) -> List[Dict]:
    """Detection rate (IoU >= 0.5) and mean IoU per case.

    Still frames: ``n`` random positions per face size and rotation. Clips (32 frames,
    ``FaceTrackCrop`` with 8 keyframes): a face moving and growing, two faces (largest first),
    a face leaving the frame, and the synthetic cartoon speaker at 224 x 224 and 1280 x 720.

    Returns:
        list[dict]: ``case``, ``detected``, ``iou``, ``n`` (and tracker extras) per case.
    """
    from holaframe.datasets.transforms import FaceTrackCrop
    from holaframe.datasets.transforms.face_detection import build_face_detector
    photo = astronaut()
    rng = np.random.default_rng(seed)
    detector = build_face_detector(detector_name, min_face=60 if detector_name != 'haar' else 40)
    rows = []
    for px in sizes:
        for ang in angles:
            rows.append(dict(case=f'still, face {px} px, rotated {ang:+g} deg',
                             **_still_case(detector, photo, rng, px, ang, n)))
    crop = FaceTrackCrop(detector=detector_name, num_keyframes=8)
    clips = [
        ('clip, face moving 200 -> 1000 px right, 80 -> 140 px',
         [dict(start=(200, 300), end=(1000, 420), start_px=80, end_px=140, angle=5)], 0),
        ('clip, two faces (140 px and 70 px): largest track', [
            dict(start=(350, 360), end=(420, 380), face_px=140),
            dict(start=(950, 300), end=(900, 330), face_px=70)], 0),
        ('clip, face leaving the frame to the right (100 px)',
         [dict(start=(700, 360), end=(1500, 360), face_px=100)], 0),
    ]
    for name, faces, which in clips:
        rows.append(dict(case=name, **_track_case(crop, rng, faces, 32, which)))
    for hw in ((224, 224), FRAME_HW):
        hits, ious = 0, []
        for seed_k in range(n):
            img, gt = synthetic_face_frames(seed_k, hw)
            boxes, _ = detector(img)
            best = max((box_iou_one(b, gt) for b in boxes), default=0.0)
            hits += best >= 0.5
            ious.append(best)
        rows.append(dict(case=f'synthetic cartoon speaker, {hw[1]}x{hw[0]}', detected=hits / n,
                         iou=float(np.mean(ious)), n=n))
    return rows
