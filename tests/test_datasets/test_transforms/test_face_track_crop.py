"""FaceTrackCrop: detection on a real photograph, tracking, several faces, no face, leaving.

Floors pinned here sit below the rates measured in docs/face_tracking.md (every still case and
the two-face clip found at 100%, the moving clip 88%, the leaving clip 74%, synthetic 83-100%).
"""

import numpy as np
import pytest

from holaframe.datasets.transforms import FaceTrackCrop, NoFaceError
from holaframe.datasets.transforms.face_detection import (
    HaarFaceDetector,
    build_face_detector,
    dlib_available,
)
from holaframe.datasets.transforms.face_tracking import box_iou, link_tracks
from holaframe.testing.face_scenes import background, evaluate_face_scenes, moving_face_clip

pytest.importorskip('skimage', reason='scikit-image (tests extra) ships the test photograph')
pytestmark = pytest.mark.skipif(not dlib_available(), reason='dlib-bin is an install requirement '
                                'on x86_64 Linux only')


@pytest.fixture(scope='module')
def scene_rows():
    return {r['case']: r for r in evaluate_face_scenes('dlib_hog', seed=1, n=4,
                                                       sizes=(60, 120, 300),
                                                       angles=(0.0, 12.0, -12.0))}


def test_still_photograph_floor(scene_rows):
    still = [r for c, r in scene_rows.items() if c.startswith('still')]
    assert len(still) == 9
    for r in still:
        assert r['detected'] >= 0.75, r
        assert r['iou'] >= 0.6, r


def test_clip_and_synthetic_floor(scene_rows):
    clips = [r for c, r in scene_rows.items() if c.startswith('clip')]
    assert len(clips) == 3
    for r in clips:
        assert r['detected'] >= 0.6, r
        assert r['iou'] >= 0.55, r
    synthetic = [r for c, r in scene_rows.items() if c.startswith('synthetic')]
    for r in synthetic:
        assert r['detected'] >= 0.5, r


def two_face_clip(seed=3):
    return moving_face_clip(np.random.default_rng(seed), [
        dict(start=(350, 360), end=(420, 380), face_px=150),
        dict(start=(950, 300), end=(900, 330), face_px=75)], num_frames=16)


def test_largest_track_by_default_and_each_track_by_index():
    frames, gts = two_face_clip()
    out = FaceTrackCrop(num_keyframes=6)(dict(imgs=frames.copy(), filename='two.mp4'))
    assert out['face_found'] and out['num_face_tracks'] >= 2
    assert out['imgs'].shape[0] == 16 and out['imgs'].shape[1] == out['imgs'].shape[2]
    mid_big = (gts[0][8, :2] + gts[0][8, 2:]) / 2
    sq = out['face_boxes'][8]
    assert sq[0] < mid_big[0] < sq[2] and sq[1] < mid_big[1] < sq[3]
    # Every track can be cropped: one of the others is the small face (the photograph's
    # space suit also gives a weak, persistent detection that may rank before it).
    mid_small = (gts[1][8, :2] + gts[1][8, 2:]) / 2
    found = []
    for k in range(1, out['num_face_tracks']):
        sq = FaceTrackCrop(num_keyframes=6, track_index=k)(dict(imgs=frames.copy()))[
            'face_boxes'][8]
        found.append(sq[0] < mid_small[0] < sq[2] and sq[1] < mid_small[1] < sq[3])
    assert sum(found) == 1, found
    with pytest.raises(IndexError, match='face track 9 requested'):
        FaceTrackCrop(num_keyframes=6, track_index=9)(dict(imgs=frames.copy()))


def test_face_leaving_the_frame():
    frames, gts = moving_face_clip(np.random.default_rng(4), [
        dict(start=(600, 360), end=(1700, 360), face_px=110)], num_frames=24)
    out = FaceTrackCrop(num_keyframes=8)(dict(imgs=frames))
    assert out['face_found']
    visible = out['face_visible']
    assert visible[0] and not visible[-1]
    # After it left, the last box is held: the crop never jumps back to the left.
    centres = (out['face_boxes'][:, 0] + out['face_boxes'][:, 2]) / 2
    assert np.all(np.diff(centres) >= -5)
    assert out['imgs'].shape[0] == 24


@pytest.mark.parametrize('policy', ['error', 'center', 'none'])
def test_no_face(policy):
    frames = np.stack([background(np.random.default_rng(k)) for k in range(4)])
    crop = FaceTrackCrop(num_keyframes=4, on_no_face=policy)
    results = dict(imgs=frames.copy(), filename='empty.mp4')
    if policy == 'error':
        with pytest.raises(NoFaceError, match='empty.mp4: no face found in 4 keyframes'):
            crop(results)
        return
    out = crop(results)
    assert out['face_found'] is False and out['num_face_tracks'] == 0
    if policy == 'center':
        assert out['imgs'].shape == (4, 720, 720, 3)
        np.testing.assert_array_equal(out['imgs'][0], frames[0, :, 280:1000])
    else:
        assert out['imgs'] is results['imgs'] and out['face_box'] is None


def test_haar_fallback_when_dlib_is_missing(monkeypatch):
    import holaframe.datasets.transforms.face_detection as fd
    monkeypatch.setattr(fd, 'dlib_available', lambda: False)
    with pytest.warns(UserWarning, match='falling back to the Haar cascade'):
        det = build_face_detector('auto', min_face=40)
    assert isinstance(det, HaarFaceDetector)
    frames, gts = two_face_clip()
    boxes, scores = det(frames[0])
    assert box_iou(gts[0][0], boxes).max() >= 0.5


def test_link_tracks_splits_far_faces_and_ends_lost_tracks():
    a = np.array([[0, 0, 100, 100]], float)
    b = np.array([[600, 0, 700, 100]], float)
    dets = [(0, a, [1.0]), (4, a + 20, [1.0]), (8, b, [1.0]), (12, np.zeros((0, 4)), []),
            (16, np.zeros((0, 4)), []), (20, a + 20, [1.0])]
    tracks = link_tracks(dets, max_missed=2)
    assert [t.frames for t in tracks] == [[0, 4], [8], [20]]


def test_bad_arguments():
    with pytest.raises(ValueError, match='on_no_face'):
        FaceTrackCrop(on_no_face='skip')
    with pytest.raises(ValueError, match='unknown face detector'):
        build_face_detector('mediapipe')
