"""Bootstrap intervals over videos (holaframe/evaluation/bootstrap.py)."""

import numpy as np
import pytest

from holaframe.evaluation import (
    binary_video_metrics,
    bootstrap_ci,
    bootstrap_indices,
    bootstrap_video_metrics,
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
