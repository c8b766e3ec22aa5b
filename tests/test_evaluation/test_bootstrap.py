"""Bootstrap intervals over videos (holaframe/evaluation/bootstrap.py)."""

import numpy as np
import pytest

from holaframe.evaluation import (
    binary_video_metrics,
    bootstrap_ci,
    bootstrap_indices,
    bootstrap_localization_metrics,
    bootstrap_video_metrics,
    localization_metrics,
    paired_bootstrap_difference,
    rank_auc,
)
from holaframe.evaluation.bootstrap import video_metrics


def _data(n=200, seed=0, signal=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = 1 / (1 + np.exp(-(signal * (2 * labels - 1) + rng.normal(0, 1, n))))
    return labels, np.round(scores, 2)  # rounding makes ties


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_numpy_metrics_equal_the_scikit_learn_ones(seed):
    labels, scores = _data(seed=seed)
    ref = binary_video_metrics(labels, scores, 0.5)
    got = video_metrics(labels, scores, 0.5)
    for k in ('acc', 'wa_f1', 'uar', 'auc'):
        assert got[k] == pytest.approx(ref[k], abs=1e-9)


def test_interval_brackets_the_estimate_and_shrinks_with_more_videos():
    small = bootstrap_video_metrics(*_data(n=60), num_resamples=300)
    large = bootstrap_video_metrics(*_data(n=2000), num_resamples=300)
    for k in ('acc', 'wa_f1', 'uar', 'auc'):
        assert small[k]['low'] <= small[k]['value'] <= small[k]['high']
        assert large[k]['high'] - large[k]['low'] < small[k]['high'] - small[k]['low']


def test_same_seed_same_resamples_and_both_classes_in_each():
    labels, _ = _data(n=20)
    a = bootstrap_indices(labels, 100, seed=3)
    assert np.array_equal(a, bootstrap_indices(labels, 100, seed=3))
    assert not np.array_equal(a, bootstrap_indices(labels, 100, seed=4))
    sums = labels[a].sum(axis=1)
    assert ((sums > 0) & (sums < len(labels))).all()


def test_bootstrap_ci_of_any_metric():
    labels, scores = _data()
    out = bootstrap_ci(labels, scores, rank_auc, num_resamples=200)
    assert out['value'] == pytest.approx(rank_auc(labels, scores))
    assert out['low'] < out['value'] < out['high']


def test_paired_difference():
    labels, good = _data(signal=2.0)
    _, bad = _data(signal=0.0, seed=5)
    same = paired_bootstrap_difference(labels, good, good, num_resamples=100)
    assert same['value'] == same['low'] == same['high'] == 0.0
    assert same['p_not_better'] == 1.0
    diff = paired_bootstrap_difference(labels, good, bad, num_resamples=300)
    assert diff['low'] > 0 and diff['p_not_better'] == 0.0
    assert diff['value'] == pytest.approx(rank_auc(labels, good) - rank_auc(labels, bad))


def test_errors():
    with pytest.raises(ValueError):
        bootstrap_indices(np.ones(10, int))
    labels, scores = _data(n=10)
    with pytest.raises(ValueError, match='bootstrap.py: metric'):
        paired_bootstrap_difference(labels, scores, scores, metric='f2')
    with pytest.raises(ValueError, match='same videos'):
        paired_bootstrap_difference(labels, scores, scores[:5])


def _track2_set(num=40, seed=0):
    rng = np.random.default_rng(seed)
    segments = [[] if rng.random() < 0.3 else [[1.0, 2.0]] for _ in range(num)]
    proposals = [np.c_[rng.random(3), [[1.0, 2.0], [0.9, 2.1], [3.0, 4.0]]] for _ in range(num)]
    return proposals, segments


def test_bootstrap_localization_metrics():
    proposals, segments = _track2_set()
    out = bootstrap_localization_metrics(proposals, segments, num_resamples=200, seed=1)
    full = localization_metrics(proposals, segments)
    assert out['score']['value'] == full['score']
    assert set(out['ap']) == {0.5, 0.75, 0.9, 0.95} and set(out['ar']) == {50, 30, 20, 10, 5}
    for entry in [out['score'], out['mean_ap'], out['mean_ar'], *out['ap'].values(),
                  *out['ar'].values()]:
        assert entry['low'] <= entry['value'] <= entry['high']
    assert out['score']['high'] > out['score']['low']  # the resamples differ
    again = bootstrap_localization_metrics(proposals, segments, num_resamples=200, seed=1)
    assert again == out
    # Every video fake: plain draws; no fake at all: AP is undefined.
    fakes = [[[1.0, 2.0]]] * len(segments)
    assert bootstrap_localization_metrics(proposals, fakes, num_resamples=20)['ar'][5]['value'] \
        == pytest.approx(localization_metrics(proposals, fakes)['ar'][5])
    with pytest.raises(ValueError, match='no video has a fake segment'):
        bootstrap_localization_metrics(proposals, [[]] * len(segments), num_resamples=5)
