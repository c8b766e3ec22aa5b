"""Offline face detectors for :class:`FaceTrackCrop`: dlib's HOG detector and OpenCV's Haar cascade.

Both detectors ship inside their wheels (dlib compiles its frontal HOG detector into the
library; ``opencv-python<5`` ships the cascade files), so nothing is downloaded at run time.
``'auto'`` takes dlib's detector when ``dlib`` imports and falls back to the Haar cascade
otherwise (``dlib-bin`` has wheels for x86_64 Linux only; see docs/face_tracking.md for the
measured detection rates of both).
"""

import warnings
from typing import Optional, Tuple

import cv2
import numpy as np

__all__ = ['DlibHogFaceDetector', 'HaarFaceDetector', 'build_face_detector', 'FACE_DETECTORS']

#: Names accepted by :func:`build_face_detector`.
FACE_DETECTORS = ('auto', 'dlib_hog', 'haar')

#: Smallest face side (pixels) dlib's HOG detector finds at scale 1 (its window is 80 x 80 with
#: a margin around the face; a 60 px face of scikit-image's ``astronaut`` photograph was found
#: in every placement tried, see docs/face_tracking.md).
DLIB_MIN_FACE = 60


class DlibHogFaceDetector:
    """dlib's frontal-face HOG + linear SVM detector (five filters: front, left, right, tilted).

    Frames are converted to grey and resized by ``DLIB_MIN_FACE / min_face`` (enlarged for
    smaller faces, shrunk when only larger faces matter), so faces down to ``min_face`` pixels
    are found at the cost of a larger image.

    Args:
        min_face (int): Smallest face side, in pixels of the input frame.
        score_thr (float): Detection threshold on the SVM score (dlib's ``adjust_threshold``);
            below 0 finds more faces (drawn or turned ones) with more false positives, which the
            tracker's ``min_hits`` removes.
    """

    name = 'dlib_hog'

    def __init__(self, min_face: int = DLIB_MIN_FACE, score_thr: float = -0.3) -> None:
        import dlib  # noqa: F401 (fails early when dlib is missing)
        if min_face < 8:
            raise ValueError(f'face_detection.py: min_face must be >= 8 px, got {min_face}')
        self.min_face = int(min_face)
        self.score_thr = float(score_thr)
        self.scale = DLIB_MIN_FACE / float(min_face)
        self._detector = dlib.get_frontal_face_detector()

    def __call__(self, img: np.ndarray,
                 min_face: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Detect faces in one RGB frame (``min_face`` overrides the detector's).

        Returns:
            tuple[np.ndarray, np.ndarray]: Boxes ``(N, 4)`` as ``x0, y0, x1, y1`` in frame
            pixels and their scores ``(N,)``.
        """
        scale = self.scale if min_face is None else DLIB_MIN_FACE / float(max(min_face, 8))
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
        if abs(scale - 1.0) > 1e-3:
            interp = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)
        rects, scores, _ = self._detector.run(np.ascontiguousarray(gray), 0, self.score_thr)
        if not rects:
            return np.zeros((0, 4), np.float64), np.zeros(0, np.float64)
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects],
                         np.float64) / scale
        return boxes, np.asarray(scores, np.float64)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(min_face={self.min_face}, score_thr={self.score_thr})'


class HaarFaceDetector:
    """OpenCV's ``haarcascade_frontalface_default.xml`` (the fallback detector).

    Args:
        min_face (int): Smallest face side in pixels.
        min_neighbors (int): ``detectMultiScale``'s ``minNeighbors`` (higher: fewer false
            positives).
    """

    name = 'haar'
    _cascade: Optional['cv2.CascadeClassifier'] = None

    def __init__(self, min_face: int = 40, min_neighbors: int = 5) -> None:
        self.min_face = int(min_face)
        self.min_neighbors = int(min_neighbors)
        self.cascade()

    @classmethod
    def cascade(cls) -> 'cv2.CascadeClassifier':
        """The (lazily loaded) Haar cascade."""
        if cls._cascade is None:
            path = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
            clf = cv2.CascadeClassifier(path)
            if clf.empty():
                raise RuntimeError(f'{path}: Haar cascade not found (needs opencv-python<5)')
            cls._cascade = clf
        return cls._cascade

    def __call__(self, img: np.ndarray,
                 min_face: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Detect faces in one RGB frame; a box's score is the cascade's last-stage weight."""
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
        side = (int(min_face or self.min_face), ) * 2
        faces, _, weights = self.cascade().detectMultiScale3(
            gray, 1.1, self.min_neighbors, minSize=side, outputRejectLevels=True)
        if len(faces) == 0:
            return np.zeros((0, 4), np.float64), np.zeros(0, np.float64)
        faces = np.asarray(faces, np.float64)
        boxes = np.concatenate([faces[:, :2], faces[:, :2] + faces[:, 2:]], axis=1)
        return boxes, np.asarray(weights, np.float64).reshape(-1)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(min_face={self.min_face})'


def dlib_available() -> bool:
    """Whether ``import dlib`` works (the ``dlib-bin`` wheel is installed)."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def build_face_detector(name: str = 'auto', min_face: int = DLIB_MIN_FACE,
                        score_thr: float = -0.3):
    """Build a detector by name: ``'dlib_hog'``, ``'haar'`` or ``'auto'`` (dlib, else Haar).

    Args:
        name (str): One of :data:`FACE_DETECTORS`.
        min_face (int): Smallest face side in pixels.
        score_thr (float): dlib's threshold (ignored by the Haar cascade).
    """
    if name not in FACE_DETECTORS:
        raise ValueError(f'face_detection.py: unknown face detector {name!r}; use one of '
                         f'{FACE_DETECTORS}')
    if name == 'auto':
        if dlib_available():
            name = 'dlib_hog'
        else:
            warnings.warn('dlib is not installed (pip install dlib-bin): falling back to the '
                          'Haar cascade face detector, which misses small and turned faces',
                          stacklevel=2)
            name = 'haar'
    if name == 'dlib_hog':
        return DlibHogFaceDetector(min_face=min_face, score_thr=score_thr)
    return HaarFaceDetector(min_face=min_face)
