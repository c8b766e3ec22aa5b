"""Face tracks from per-keyframe detections: association, smoothing, interpolation, cropping.

Detections on keyframes are linked into tracks greedily by box overlap (IoU) or, for a fast
face, by centre distance relative to the box size. A track's keyframe boxes are smoothed (a
centred moving average of the centre and the side over ``smooth`` keyframes) and interpolated
linearly to every frame; frames before its first or after its last detection (more than half a
keyframe interval away) are marked not visible and keep the nearest box. Crops are square boxes
around the smoothed box, enlarged by ``margin``; the part outside the frame is black, so a face
leaving the frame stays centred in its crop.
"""

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['FaceTrack', 'box_iou', 'link_tracks', 'track_frame_boxes', 'crop_frames']


@dataclass
class FaceTrack:
    """Detections of one face: keyframe indices, boxes ``(x0, y0, x1, y1)`` and scores."""

    frames: List[int] = field(default_factory=list)
    boxes: List[np.ndarray] = field(default_factory=list)
    scores: List[float] = field(default_factory=list)
    missed: int = 0

    @property
    def hits(self) -> int:
        """Number of keyframes with a detection."""
        return len(self.frames)

    @property
    def mean_area(self) -> float:
        """Mean box area in pixels."""
        b = np.asarray(self.boxes)
        return float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).mean())

    @property
    def size(self) -> float:
        """Total box area over the keyframes (``hits * mean_area``): the rank of a track.

        A face seen in every keyframe outranks a slightly larger one seen once, and a
        false detection that comes and goes ranks below the face it sits beside.
        """
        return self.hits * self.mean_area

    def summary(self) -> dict:
        """JSON-friendly description: hits, first/last keyframe, median box, mean score."""
        box = np.median(np.asarray(self.boxes), axis=0)
        return dict(hits=self.hits, first_frame=int(self.frames[0]),
                    last_frame=int(self.frames[-1]), median_box=[round(float(v), 1) for v in box],
                    mean_score=round(float(np.mean(self.scores)), 3))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))`` of boxes ``(x0, y0, x1, y1)``."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0],
                                                                     b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1],
                                                                     b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _affinity(track_box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU, or for non-overlapping boxes of similar size a score from their centre distance."""
    iou = box_iou(track_box, boxes)[0]
    side = np.sqrt((track_box[2] - track_box[0]) * (track_box[3] - track_box[1]))
    sides = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    c0 = (track_box[:2] + track_box[2:]) / 2
    c1 = (boxes[:, :2] + boxes[:, 2:]) / 2
    dist = np.linalg.norm(c1 - c0[None], axis=1) / max(side, 1e-6)
    ratio = np.minimum(sides, side) / np.maximum(sides, side)
    # A centre within 1.5 box sides and a size within a factor 1.5 still links (a fast face
    # moves more than its width between keyframes).
    # Scored 0.21-0.5: above link_tracks' default min_affinity, below a clear overlap.
    near = np.where((dist < 1.5) & (ratio > 0.67), 0.21 + 0.29 * (1.0 - dist / 1.5) * ratio,
                    0.0)
    return np.maximum(iou, near)


def link_tracks(detections: Sequence[Tuple[int, np.ndarray, np.ndarray]],
                min_affinity: float = 0.2, max_missed: int = 2) -> List[FaceTrack]:
    """Link keyframe detections into tracks (greedy, highest affinity first).

    Args:
        detections: ``(frame index, boxes (N, 4), scores (N,))`` per keyframe, in frame order.
        min_affinity (float): Smallest IoU (or centre-distance score) that links a detection
            to a track's last box.
        max_missed (int): A track that finds no detection in this many keyframes in a row ends
            (a face that left the frame and comes back starts a new track).

    Returns:
        list[FaceTrack]: Every track, in order of creation.
    """
    tracks: List[FaceTrack] = []
    active: List[FaceTrack] = []
    for frame, boxes, scores in detections:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        pairs = []
        for ti, track in enumerate(active):
            if len(boxes):
                aff = _affinity(track.boxes[-1], boxes)
                pairs += [(aff[di], ti, di) for di in range(len(boxes)) if aff[di] >= min_affinity]
        used_t, used_d = set(), set()
        for _, ti, di in sorted(pairs, reverse=True):
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            track = active[ti]
            track.frames.append(int(frame))
            track.boxes.append(boxes[di])
            track.scores.append(float(scores[di]))
            track.missed = 0
        for ti, track in enumerate(active):
            if ti not in used_t:
                track.missed += 1
        for di in range(len(boxes)):
            if di not in used_d:
                track = FaceTrack([int(frame)], [boxes[di]], [float(scores[di])])
                tracks.append(track)
                active.append(track)
        active = [t for t in active if t.missed < max_missed]
    return tracks


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along axis 0 (the window shrinks at the ends)."""
    if window <= 1 or len(values) < 3:
        return values
    half = window // 2
    out = np.empty_like(values)
    for i in range(len(values)):
        lo, hi = max(0, i - half), min(len(values), i + half + 1)
        out[i] = values[lo:hi].mean(axis=0)
    return out


def track_frame_boxes(track: FaceTrack, num_frames: int, smooth: int = 3,
                      hold: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
    """Per-frame boxes of a track: smoothed keyframe boxes interpolated to every frame.

    The box is kept as centre and side (``sqrt(w * h)``), smoothed over ``smooth`` keyframes,
    then interpolated linearly; outside the detected span the nearest box is held.

    Args:
        track (FaceTrack): The track.
        num_frames (int): Number of frames of the clip.
        smooth (int): Moving-average window in keyframes (1: no smoothing).
        hold (float): Frames before the first / after the last detection still counted as
            visible (half the keyframe interval: the face may have left in between).

    Returns:
        tuple[np.ndarray, np.ndarray]: Boxes ``(num_frames, 4)`` and a visibility mask
        ``(num_frames,)``.
    """
    b = np.asarray(track.boxes, np.float64)
    centre = (b[:, :2] + b[:, 2:]) / 2
    side = np.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[:, None]
    aspect = ((b[:, 3] - b[:, 1]) / np.maximum(b[:, 2] - b[:, 0], 1e-6))[:, None]
    state = _smooth(np.concatenate([centre, side, aspect], axis=1), smooth)
    keys = np.asarray(track.frames, np.float64)
    t = np.arange(num_frames, dtype=np.float64)
    cols = [np.interp(t, keys, state[:, k]) for k in range(state.shape[1])]
    cx, cy, s, asp = cols
    w = s / np.sqrt(asp)
    h = s * np.sqrt(asp)
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    visible = (t >= keys[0] - hold) & (t <= keys[-1] + hold)
    return boxes, visible


def crop_frames(imgs: np.ndarray, boxes: np.ndarray, margin: float = 1.3,
                out_size: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Square crops around per-frame boxes, resized to one size.

    Args:
        imgs (np.ndarray): Frames ``(T, H, W, C)``.
        boxes (np.ndarray): Boxes ``(T, 4)``.
        margin (float): The square's side is ``margin * max(w, h)`` of the box.
        out_size (int): Side of the output crops; 0 takes the median square side (at least
            16 px), so later resizing works as on the full frames.

    Returns:
        tuple[np.ndarray, np.ndarray]: Crops ``(T, S, S, C)`` and the squares ``(T, 4)``
        (integers, may reach outside the frame: that part is black).
    """
    t, h, w = imgs.shape[:3]
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(np.maximum(bw, bh) * margin, 8.0)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    x0 = np.round(cx - side / 2).astype(int)
    y0 = np.round(cy - side / 2).astype(int)
    s = np.round(side).astype(int)
    size = int(out_size) if out_size else max(int(np.median(s)), 16)
    out = np.zeros((t, size, size) + imgs.shape[3:], imgs.dtype)
    for i in range(t):
        xa, ya, sa = x0[i], y0[i], s[i]
        patch = np.zeros((sa, sa) + imgs.shape[3:], imgs.dtype)
        sx0, sy0 = max(xa, 0), max(ya, 0)
        sx1, sy1 = min(xa + sa, w), min(ya + sa, h)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - ya:sy1 - ya, sx0 - xa:sx1 - xa] = imgs[i, sy0:sy1, sx0:sx1]
        interp = cv2.INTER_AREA if sa > size else cv2.INTER_LINEAR
        out[i] = cv2.resize(patch, (size, size), interpolation=interp).reshape(out.shape[1:])
    squares = np.stack([x0, y0, x0 + s, y0 + s], axis=1)
    return out, squares
