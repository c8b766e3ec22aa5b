"""VideoRandomCameraMotion: moves a clip along a bounded smooth path, with a moving texture."""

import numpy as np
import pytest

from holaframe.datasets.transforms import VideoRandomCameraMotion


def _dot_clip(t=50, side=48):
    imgs = np.full((t, side, side, 3), 30, np.uint8)
    imgs[:, 22:26, 22:26] = 230  # a bright square at the centre
    return imgs


def _centroid(frame):
    grey = frame.astype(np.float64).mean(-1)
    w = np.clip(grey - 130, 0, None)
    ys, xs = np.indices(grey.shape)
    return (ys * w).sum() / w.sum(), (xs * w).sum() / w.sum()


def test_probability_zero_leaves_the_clip_and_one_moves_it():
    imgs = _dot_clip()
    assert VideoRandomCameraMotion(prob=0.0)(dict(imgs=imgs))['imgs'] is imgs
    np.random.seed(0)
    out = VideoRandomCameraMotion(prob=1.0, texture=0.0)(dict(imgs=imgs.copy()))['imgs']
    assert out.shape == imgs.shape and out.dtype == np.uint8
    assert not np.array_equal(out, imgs)


def test_motion_stays_within_its_limits_and_is_smooth():
    side, max_shift = 48, 0.06
    aug = VideoRandomCameraMotion(prob=1.0, max_shift=max_shift, max_rotation=0.0,
                                  max_zoom=0.0, jitter=0.0, texture=0.0)
    for seed in range(10):
        np.random.seed(seed)
        out = aug(dict(imgs=_dot_clip(side=side)))['imgs']
        cy, cx = np.array([_centroid(f) for f in out]).T
        # The square sits at 23.5; every frame is within the shift limit of it.
        limit = max_shift * side + 0.25
        assert np.abs(cx - 23.5).max() <= limit and np.abs(cy - 23.5).max() <= limit
        # A sway of at most 1.5 Hz at 25 fps moves at most 2 pi 1.5 / 25 = 0.38 of the limit
        # per frame (a drift less).
        step = 0.4 * limit
        assert np.abs(np.diff(cx)).max() <= step and np.abs(np.diff(cy)).max() <= step


def test_texture_moves_with_the_face():
    np.random.seed(3)
    flat = np.full((20, 48, 48, 3), 128, np.uint8)
    still = VideoRandomCameraMotion(prob=1.0, max_shift=0.0, max_rotation=0.0, max_zoom=0.0,
                                    jitter=0.0, texture=0.5)(dict(imgs=flat))['imgs']
    assert still.std() > 1.0  # a texture was added
    assert np.array_equal(still[0], still[-1])  # ... and without motion it stays put
    np.random.seed(3)
    moving = VideoRandomCameraMotion(prob=1.0, max_shift=0.1, max_rotation=0.0, max_zoom=0.0,
                                     jitter=0.0, texture=0.5)(dict(imgs=flat))['imgs']
    assert not np.array_equal(moving[0], moving[-1])


def test_same_seed_same_clip_and_bad_arguments():
    imgs = _dot_clip()
    np.random.seed(7)
    a = VideoRandomCameraMotion(prob=1.0)(dict(imgs=imgs))['imgs']
    np.random.seed(7)
    b = VideoRandomCameraMotion(prob=1.0)(dict(imgs=imgs))['imgs']
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match='max_shift must be >= 0'):
        VideoRandomCameraMotion(max_shift=-0.1)
    with pytest.raises(ValueError, match='prob must be <= 1'):
        VideoRandomCameraMotion(prob=2.0)
    with pytest.raises(ValueError, match=r'clip\.mp4.*expects imgs'):
        VideoRandomCameraMotion(prob=1.0)(dict(imgs=imgs[0], filename='clip.mp4'))
