"""Face detection + tracking + cropping for in-the-wild videos (``FaceTrackCrop``)."""

from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from ..io import BadSampleError
from .face_detection import DLIB_MIN_FACE, build_face_detector
from .face_tracking import crop_frames, link_tracks, track_frame_boxes

__all__ = ['FaceTrackCrop', 'NoFaceError']

#: Values of ``on_no_face``.
NO_FACE_POLICIES = ('error', 'center', 'none')


class NoFaceError(BadSampleError):
    """No face track was found in a video (``FaceTrackCrop(on_no_face='error')``)."""


@TRANSFORMS.register_module()
class FaceTrackCrop(BaseTransform):
    """Detect faces on keyframes, track them, and crop every frame around one track.

    1. ``num_keyframes`` evenly spaced frames of ``imgs`` go through the detector (dlib's HOG
       detector, or the Haar cascade as fallback: :mod:`.face_detection`).
    2. Detections are linked into tracks by overlap (:func:`.face_tracking.link_tracks`). A
       track counts as a face when one of its detections scores at least ``track_thr`` and it
       has ``min_hits`` detections; failing that, the tracks with a confident detection, and
       failing that, those with ``min_hits`` weak detections (a drawn face) are used. Weak
       textures of a still background that pass ``score_thr`` in every frame so rank below a
       real face. Tracks are ranked by size (total box area over the
       keyframes: a face seen throughout outranks a brief or intermittent detection),
       largest first.
    3. The chosen track (``track_index``, 0 = largest) is smoothed and interpolated to every
       frame; each frame is cropped to a square of ``margin`` times the box side around it and
       resized to one size (``out_size``, or the median crop side). Parts of the square
       outside the frame are black: a face leaving the frame stays centred while visible, and
       the last box is held after it has left.

    Without any face: ``on_no_face='error'`` raises :class:`NoFaceError` naming the file;
    ``'center'`` keeps the centre square of the frames (as :class:`HaarFaceCrop`); ``'none'``
    keeps the frames unchanged. ``face_found`` tells which case happened.

    Added keys: ``face_found``, ``face_detector``, ``face_tracks`` (summary of each track,
    largest first: detections, first and last detected frame of the video, median box, mean
    score), ``num_face_tracks``, ``face_track_index``, ``face_boxes`` (``(T, 4)`` crop
    squares in frame pixels), ``face_visible`` (``(T,)``), ``face_box`` (median square).

    Args:
        detector (str): ``'auto'`` (dlib if installed, else Haar), ``'dlib_hog'`` or ``'haar'``.
        num_keyframes (int): Frames searched for faces (spread over the clip).
        min_face (int): Smallest face side in pixels of the decoded frames (lowered to a
            quarter of the short side, at least 20 px, in smaller frames).
        score_thr (float): dlib's detection threshold (below 0: more recall).
        min_hits (int): Detections a track needs to count (capped by the number of keyframes).
        track_thr (float): Score one detection of a track must reach to make it a sure face.
        margin (float): Crop side over the face box side.
        smooth (int): Moving-average window of the box, in keyframes.
        out_size (int): Side of the crops; 0 (default) uses the median crop side.
        track_index (int): Which track to crop, 0 = the largest; an index past the number of
            tracks raises ``IndexError``.
        on_no_face (str): ``'error'``, ``'center'`` or ``'none'``.
    """

    def __init__(self, detector: str = 'auto', num_keyframes: int = 8,
                 min_face: int = DLIB_MIN_FACE, score_thr: float = -0.3, min_hits: int = 2,
                 track_thr: float = 0.0, margin: float = 1.3, smooth: int = 3,
                 out_size: int = 0, track_index: int = 0, on_no_face: str = 'center') -> None:
        if on_no_face not in NO_FACE_POLICIES:
            raise ValueError(f'face_track_crop.py: on_no_face must be one of {NO_FACE_POLICIES}, '
                             f'got {on_no_face!r}')
        if num_keyframes < 1:
            raise ValueError(f'face_track_crop.py: num_keyframes must be >= 1, got '
                             f'{num_keyframes}')
        if margin < 1.0:
            raise ValueError(f'face_track_crop.py: margin must be >= 1, got {margin}')
        if track_index < 0:
            raise ValueError(f'face_track_crop.py: track_index must be >= 0, got {track_index}')
        self.detector_name = detector
        self.num_keyframes = int(num_keyframes)
        self.min_face = int(min_face)
        self.score_thr = float(score_thr)
        self.min_hits = int(min_hits)
        self.track_thr = float(track_thr)
        self.margin = float(margin)
        self.smooth = int(smooth)
        self.out_size = int(out_size)
        self.track_index = int(track_index)
        self.on_no_face = on_no_face
        self._detector = None

    @property
    def detector(self):
        """The face detector (built on first use)."""
        if self._detector is None:
            self._detector = build_face_detector(self.detector_name, self.min_face,
                                                 self.score_thr)
        return self._detector

    def find_tracks(self, imgs: np.ndarray) -> list:
        """Face tracks of frames ``(T, H, W, 3)``, largest first."""
        t = imgs.shape[0]
        keys = np.unique(np.linspace(0, t - 1, min(self.num_keyframes, t)).round().astype(int))
        # In small frames (a 224 px talking-head clip) faces are searched down to a quarter
        # of the short side when that is below min_face.
        min_face = min(self.min_face, max(20, min(imgs.shape[1:3]) // 4))
        detections = [(int(k), *self.detector(imgs[k], min_face)) for k in keys]
        tracks = link_tracks(detections)
        need = min(self.min_hits, len(keys))
        sure = [tr for tr in tracks if max(tr.scores) >= self.track_thr]
        kept = ([tr for tr in sure if tr.hits >= need] or sure
                or [tr for tr in tracks if tr.hits >= need])
        return sorted(kept, key=lambda tr: tr.size, reverse=True), keys

    def transform(self, results: Dict) -> Optional[Dict]:
        """Detect, track and crop ``results['imgs']``."""
        imgs = results['imgs']
        t, h, w = imgs.shape[:3]
        tracks, keys = self.find_tracks(imgs)
        results['face_detector'] = self.detector.name
        summaries = [tr.summary() for tr in tracks]
        inds = np.asarray(results.get('frame_inds', []), np.int64).reshape(-1)
        if inds.size == t:  # positions in imgs -> frame numbers of the video
            for summary in summaries:
                summary['first_frame'] = int(inds[summary['first_frame']])
                summary['last_frame'] = int(inds[summary['last_frame']])
        results['face_tracks'] = summaries
        results['num_face_tracks'] = len(tracks)
        if not tracks:
            results['face_found'] = False
            if self.on_no_face == 'error':
                raise NoFaceError(f'{results.get("filename", "<frames>")}: no face found in '
                                  f'{len(keys)} keyframes ({self.detector.name} detector, '
                                  f'faces >= {self.min_face} px)')
            if self.on_no_face == 'none':
                results['face_box'] = None
                return results
            side = min(h, w)
            x0, y0 = (w - side) // 2, (h - side) // 2
            boxes = np.tile(np.array([[x0, y0, x0 + side, y0 + side]], np.float64), (t, 1))
            crops, squares = crop_frames(imgs, boxes, 1.0, self.out_size)
            visible = np.zeros(t, bool)
        else:
            if self.track_index >= len(tracks):
                raise IndexError(f'{results.get("filename", "<frames>")}: face track '
                                 f'{self.track_index} requested, {len(tracks)} found')
            track = tracks[self.track_index]
            hold = 0.5 * t / max(len(keys), 1)
            boxes, visible = track_frame_boxes(track, t, self.smooth, hold)
            crops, squares = crop_frames(imgs, boxes, self.margin, self.out_size)
            results['face_found'] = True
        results['face_track_index'] = self.track_index if tracks else None
        results['face_boxes'] = squares
        results['face_visible'] = visible
        results['face_box'] = tuple(int(v) for v in np.median(squares, axis=0))
        results['imgs'] = crops
        results['img_shape'] = crops.shape[1:3]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(detector={self.detector_name!r}, '
                f'num_keyframes={self.num_keyframes}, min_face={self.min_face}, '
                f'margin={self.margin}, track_index={self.track_index}, '
                f'on_no_face={self.on_no_face!r})')
