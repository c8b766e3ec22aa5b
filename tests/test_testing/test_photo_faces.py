"""Talking photographs: the mouth opens (darker, only near the mouth), the lip-sync patch stays
inside its box and changes the frame where it is pasted."""

import numpy as np

from holaframe.testing.photo_faces import (
    PHOTOS,
    lipsync_patch,
    load_photo,
    mouth_centre,
    random_face,
    render_frame,
)


def test_photos_ship_with_scikit_image():
    for name in PHOTOS:
        img = load_photo(name)
        assert img.dtype == np.uint8 and img.ndim == 3 and not img.flags.writeable


def test_mouth_opens_darker_and_only_near_the_mouth():
    for seed in range(3):
        face = random_face(np.random.default_rng(seed))
        zero = np.zeros((224, 224, 3), np.int16)
        closed = render_frame(face, 5, 0.0, (224, 224), zero).astype(int)
        opened = render_frame(face, 5, 1.0, (224, 224), zero).astype(int)
        x, y, hw = mouth_centre(face, 5)
        diff = np.abs(opened - closed).sum(2)
        ys, xs = np.nonzero(diff > 10)
        assert len(xs) > 20
        assert np.abs(xs - x).max() <= 2.5 * hw and (ys - y).min() >= -1.5 * hw
        box = (slice(int(y), int(y + 0.6 * hw)), slice(int(x - 0.5 * hw), int(x + 0.5 * hw)))
        assert opened[box].mean() < closed[box].mean()  # the cavity is dark


def test_lipsync_patch_is_local():
    rng = np.random.default_rng(0)
    face = random_face(rng)
    zero = np.zeros((224, 224, 3), np.int16)
    real = render_frame(face, 0, 0.0, (224, 224), zero)
    gen = render_frame(face, 0, 0.8, (224, 224), zero)
    style = dict(down=0.4, blur=0.5, colour=(8, -8, 4), contrast=0.9, feather=1.0, jitter=1,
                 rect=True)
    out = lipsync_patch(real, gen, mouth_centre(face, 0), rng, style)
    x, y, hw = mouth_centre(face, 0)
    changed = np.abs(out.astype(int) - real).sum(2) > 0
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 100
    assert xs.min() >= int(x - 2.4 * hw) and xs.max() < x + 2.4 * hw + 1
    assert ys.min() >= int(y - 0.9 * hw) and ys.max() < y + 2.2 * hw + 1
