"""SegmentPostProcessor: decoding, NMS / soft-NMS, cap, sorting, at least one proposal."""

import numpy as np
import pytest
import torch

from holaframe.models.postprocessors import SegmentPostProcessor
from holaframe.models.postprocessors.segment_post_processor import mask_segments, segment_iou
from holaframe.registry import MODELS

FPS = 25.0


def _bump(num=100, start=40, end=52, high=0.9):
    """Scores and exact boundary distances (seconds) of one fake segment [start, end) frames."""
    times = (np.arange(num) + 0.5) / FPS
    scores = np.full(num, 0.01)
    scores[start:end] = high
    dists = np.zeros((num, 2))
    dists[start:end, 0] = times[start:end] - start / FPS
    dists[start:end, 1] = end / FPS - times[start:end]
    return scores, dists, times


def test_segment_iou():
    iou = segment_iou(np.array([0.0, 2.0]), np.array([[1.0, 3.0], [2.0, 4.0], [0.0, 2.0]]))
    assert np.allclose(iou, [1 / 3, 0.0, 1.0])


def test_mask_segments_runs():
    scores = np.array([0.1, 0.6, 0.8, 0.2, 0.9, 0.1])
    times = (np.arange(6) + 0.5) / FPS
    rows = mask_segments(scores, times, 1 / FPS, 0.5)
    assert rows.shape == (2, 3)
    assert np.allclose(rows[0], [0.7, 1 / FPS, 3 / FPS])
    assert np.allclose(rows[1], [0.9, 4 / FPS, 5 / FPS])


@pytest.mark.parametrize('nms', ['soft', 'hard', 'none'])
def test_best_proposal_is_the_segment_and_sorted(nms):
    scores, dists, times = _bump()
    pp = SegmentPostProcessor(nms=nms, max_per_video=20)
    props = pp(scores, dists, times, duration=4.0)
    assert props.dtype == torch.float32 and props.shape[1] == 3
    assert 1 <= props.shape[0] <= 20
    assert torch.all(props[:-1, 0] >= props[1:, 0])
    assert props[0, 1].item() == pytest.approx(40 / FPS, abs=1e-5)
    assert props[0, 2].item() == pytest.approx(52 / FPS, abs=1e-5)
    assert float(props[:, 1:].min()) >= 0 and float(props[:, 1:].max()) <= 4.0


def test_hard_nms_removes_duplicates_soft_nms_decays_them():
    scores, dists, times = _bump()
    hard = SegmentPostProcessor(nms='hard', iou_threshold=0.5, mask_threshold=None)(
        scores, dists, times, duration=4.0)
    # The 12 identical candidates collapse into one above the background.
    assert int((hard[:, 0] > 0.5).sum()) == 1
    soft = SegmentPostProcessor(nms='soft', sigma=0.5, mask_threshold=None)(
        scores, dists, times, duration=4.0)
    assert float(soft[0, 0]) == pytest.approx(0.9, rel=1e-5)
    # The second copy of the same segment decays by exp(-1 / sigma).
    dup = soft[(soft[:, 1] - 40 / FPS).abs().lt(1e-5) & (soft[:, 2] - 52 / FPS).abs().lt(1e-5)]
    assert dup.shape[0] >= 2
    assert float(dup[1, 0]) == pytest.approx(0.9 * np.exp(-1 / 0.5), rel=1e-4)


def test_cap_and_min_score_keep_at_least_one():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1e-4, 200)
    times = (np.arange(200) + 0.5) / FPS
    dists = rng.uniform(0, 0.2, (200, 2))
    pp = SegmentPostProcessor(nms='none', max_per_video=7, min_score=0.5, mask_threshold=None)
    props = pp(scores, dists, times, duration=8.0)
    assert props.shape == (1, 3)  # everything below min_score: the best one stays
    props = SegmentPostProcessor(nms='none', max_per_video=7, min_score=0.0)(
        scores, dists, times, duration=8.0)
    assert props.shape == (7, 3)
    empty = SegmentPostProcessor()([], np.zeros((0, 2)), [], duration=3.0)
    assert empty.tolist() == [[0.0, 0.0, 3.0]]


def test_clipping_and_video_score_power():
    scores, dists, times = _bump(num=50, start=45, end=50)
    dists[45:50, 1] += 1.0  # predicted ends past the video
    props = SegmentPostProcessor(video_score_power=1.0, mask_threshold=None)(
        scores, dists, times, duration=2.0, video_score=0.5)
    assert float(props[:, 2].max()) <= 2.0
    assert float(props[0, 0]) == pytest.approx(0.45, rel=1e-5)


def test_registered_and_bad_args():
    pp = MODELS.build(dict(type='SegmentPostProcessor', nms='hard'))
    assert isinstance(pp, SegmentPostProcessor)
    with pytest.raises(ValueError, match='segment_post_processor.py'):
        SegmentPostProcessor(nms='greedy')
    with pytest.raises(ValueError, match='max_per_video'):
        SegmentPostProcessor(max_per_video=0)
    with pytest.raises(ValueError, match='one of each'):
        SegmentPostProcessor()([0.1, 0.2], np.zeros((3, 2)), [0.0, 0.04], duration=1.0)
