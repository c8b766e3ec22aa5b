"""WholeVideoSampleFrames: every frame, padding of short clips, frame limit."""

import numpy as np
import pytest

from holaframe.datasets.transforms import WholeVideoSampleFrames


def test_every_frame():
    out = WholeVideoSampleFrames(min_len=16)(dict(total_frames=40))
    assert out['frame_inds'].tolist() == list(range(40))
    assert out['num_valid_frames'] == 40 and out['clip_len'] == 40


def test_short_clip_repeats_its_last_frame():
    out = WholeVideoSampleFrames(min_len=16)(dict(total_frames=10))
    assert out['frame_inds'].tolist() == list(range(10)) + [9] * 6
    assert out['num_valid_frames'] == 10
    assert out['frame_inds'].dtype == np.int64


def test_limits():
    with pytest.raises(ValueError, match='/x.mp4: 50 frames'):
        WholeVideoSampleFrames(min_len=4, max_frames=49)(dict(total_frames=50, filename='/x.mp4'))
    with pytest.raises(ValueError, match='no frames'):
        WholeVideoSampleFrames()(dict(total_frames=0))
    with pytest.raises(ValueError, match='min_len'):
        WholeVideoSampleFrames(min_len=0)
