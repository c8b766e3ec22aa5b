"""generate_synthetic_avdf(segment_range=...): edits placed inside the range (long clips)."""

import json

import pytest

from holaframe.testing import generate_synthetic_avdf
from holaframe.testing.synthetic_avdf import _choose_segments


def test_long_clip_with_the_fake_in_its_last_second(tmp_path):
    meta = generate_synthetic_avdf(str(tmp_path), 0, 2, 0, 0, seed=0, num_silent=0,
                                   duration_range=(20.0, 20.0), frame_size=32,
                                   segment_range=(-1.0, -0.08))['val']
    real, fake = meta
    assert real['fake_segments'] == [] and real['video_frames'] == 500
    assert fake['fake_segments'] and all(19.0 <= s < e <= 19.92
                                         for s, e in fake['fake_segments'])
    saved = json.loads((tmp_path / 'val_metadata.json').read_text())
    assert saved == meta


def test_forced_edit_inside_the_range_and_no_room():
    import numpy as np
    rng = np.random.default_rng(0)
    # No word qualifies: the forced 8-frame edit lands inside [10 s, 11 s].
    segs = _choose_segments(rng, [], 500, segment_range=(10.0, 11.0))
    assert segs == [(258, 266, 258 * 640, 266 * 640)]  # centred in frames 250-275
    with pytest.raises(ValueError, match='no room'):
        _choose_segments(rng, [], 500, segment_range=(10.0, 10.2))


def test_a_forced_edit_in_the_range_replaces_a_word_said_there():
    """Where no word of the original fits the range, the original says one there (with a pause
    either side) and the fake replaces it: the edit is audible, not a write over a pause and
    the tail of a neighbouring word."""
    import numpy as np

    from holaframe.testing.synthetic_avdf import SAMPLES_PER_FRAME, _make_pair
    s, e = 482 * SAMPLES_PER_FRAME, 490 * SAMPLES_PER_FRAME  # the forced 8-frame edit
    pad = int(0.06 * 16000)

    def rms(x):
        return float(np.sqrt(np.mean(x ** 2)))

    forced = 0
    for i in range(30):
        pair = _make_pair(np.random.default_rng(i), 20.0, 'audio_modified', (32, 32),
                          segment_range=(-1.0, -0.08))
        if pair['segments'] != [[19.28, 19.6]]:
            continue
        forced += 1
        real, fake = pair['real'][1], pair['fake'][1]
        noise = max(rms(real[s - pad:s]), rms(real[e:e + pad]))  # the pauses: noise only
        assert noise < 0.01, i
        assert rms(real[s:e]) > 3 * noise, i  # a word is said in the span ...
        assert rms(fake[s:e] - real[s:e]) > 3 * noise, i  # ... and replaced by another
        assert np.array_equal(fake[:s], real[:s]) and np.array_equal(fake[e:], real[e:])
    assert forced >= 3
