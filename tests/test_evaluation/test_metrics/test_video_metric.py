"""VideoMetric: values against brute force (with ties), one class, groups, duplicates."""

import itertools
import json

import numpy as np
import pytest
import torch

from holaframe.datasets.leading_silence import leading_silence_seconds
from holaframe.evaluation import VideoMetric, binary_video_metrics, rank_auc
from holaframe.registry import METRICS
from holaframe.structures import AVDataSample


def brute_force_auc(labels, scores):
    """P(score of a fake > score of a real) + 0.5 P(tie), over every (fake, real) pair."""
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    total = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return total / (len(pos) * len(neg))


def brute_force_rest(labels, scores, threshold):
    preds = [int(s >= threshold) for s in scores]
    acc = np.mean([p == y for p, y in zip(preds, labels)])
    f1s, recalls, weights = [], [], []
    for c in (0, 1):
        tp = sum(p == c and y == c for p, y in zip(preds, labels))
        fp = sum(p == c and y != c for p, y in zip(preds, labels))
        fn = sum(p != c and y == c for p, y in zip(preds, labels))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        recalls.append(tp / (tp + fn))
        weights.append(sum(y == c for y in labels))
    wa_f1 = np.average(f1s, weights=weights)
    return 100 * acc, 100 * wa_f1, 100 * np.mean(recalls)


def make_samples(labels, scores, modify_types=None, start=0):
    samples = []
    for i, (y, s) in enumerate(zip(labels, scores)):
        ds = AVDataSample(metainfo=dict(file=f'clip_{start + i:03d}.mp4', sample_idx=start + i))
        ds.set_gt_label(y).set_pred_score(s)
        if modify_types is not None:
            ds.set_metainfo(dict(modify_type=modify_types[i]))
        samples.append(ds)
    return samples


# Scores rounded to one decimal: many ties inside and across the classes.
RNG = np.random.default_rng(0)
LABELS = [int(v) for v in RNG.integers(0, 2, 60)]
SCORES = [round(float(v), 1) for v in RNG.random(60)]


def test_rank_auc_eq14_matches_brute_force_and_sklearn_with_ties():
    expected = brute_force_auc(LABELS, SCORES)
    assert rank_auc(LABELS, SCORES) == pytest.approx(expected, abs=1e-12)
    assert binary_video_metrics(LABELS, SCORES)['auc'] == pytest.approx(expected, abs=1e-12)
    # A hand-checked case: ranks of [0.1, 0.5, 0.5, 0.9] are [1, 2.5, 2.5, 4].
    assert rank_auc([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx((2.5 + 4 - 3) / 4)
    assert brute_force_auc([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)


@pytest.mark.parametrize('threshold', [0.5, 0.3])
def test_metric_values_against_brute_force(threshold):
    metric = VideoMetric(threshold=threshold)
    metric.process({}, make_samples(LABELS, SCORES))
    out = metric.evaluate(len(LABELS))
    acc, wa_f1, uar = brute_force_rest(LABELS, SCORES, threshold)
    assert out['video/auc'] == pytest.approx(brute_force_auc(LABELS, SCORES), abs=1e-12)
    assert out['video/acc'] == pytest.approx(acc)
    assert out['video/wa_f1'] == pytest.approx(wa_f1)
    assert out['video/uar'] == pytest.approx(uar)
    assert out['video/num_clips'] == 60
    assert out['video/num_fake'] == sum(LABELS)


def test_threshold_is_inclusive():
    out = binary_video_metrics([0, 1], [0.2, 0.5], threshold=0.5)
    assert out['acc'] == 100.0


@pytest.mark.parametrize('label', [0, 1])
def test_one_class_only_raises_clear_error(label):
    metric = VideoMetric()
    metric.process({}, make_samples([label] * 5, [0.1, 0.2, 0.3, 0.4, 0.9]))
    with pytest.raises(ValueError, match='Only one class'):
        metric.evaluate(5)


def test_nan_score_raises():
    with pytest.raises(ValueError, match='Non-finite'):
        binary_video_metrics([0, 1], [0.1, float('nan')])


def test_duplicates_counted_once():
    samples = make_samples(LABELS, SCORES)
    metric = VideoMetric()
    metric.process({}, samples + samples[:7])  # the sampler's padding repeats clips
    results = list(metric.results)
    dedup = metric.compute_metrics(results)
    assert dedup['num_clips'] == 60
    assert dedup['auc'] == pytest.approx(brute_force_auc(LABELS, SCORES))


def test_per_group_metrics():
    labels = [0, 0, 0, 1, 1, 1, 1]
    scores = [0.1, 0.6, 0.2, 0.9, 0.4, 0.8, 0.7]
    types = ['real', 'real', 'real', 'visual_modified', 'visual_modified', 'audio_modified',
             'audio_modified']
    metric = METRICS.build(dict(type='VideoMetric', group_by=['modify_type']))
    metric.process({}, make_samples(labels, scores, types))
    out = metric.evaluate(7)
    # visual_modified (fakes 0.9, 0.4) against all reals (0.1, 0.6, 0.2): 5 of 6 pairs.
    assert out['video/modify_type/visual_modified/auc'] == pytest.approx(
        brute_force_auc([1, 1, 0, 0, 0], [0.9, 0.4, 0.1, 0.6, 0.2]))
    assert out['video/modify_type/visual_modified/acc'] == pytest.approx(50.0)
    assert out['video/modify_type/real/acc'] == pytest.approx(200 / 3)
    assert out['video/modify_type/audio_modified/num_clips'] == 2
    assert 'video/modify_type/real/uar' not in out  # undefined with one class


def test_unlabeled_only_gives_no_metric():
    metric = VideoMetric()
    metric.process({}, make_samples([-1, -1], [0.2, 0.7]))
    assert metric.evaluate(2) == {}


def test_roc_and_scores_files(tmp_path):
    metric = VideoMetric(roc_file=str(tmp_path / 'roc.png'),
                         scores_file=str(tmp_path / 'scores.jsonl'))
    metric.process({}, make_samples(LABELS, SCORES))
    metric.evaluate(60)
    assert (tmp_path / 'roc.png').read_bytes()[:4] == b'\x89PNG'
    rows = [json.loads(line) for line in (tmp_path / 'scores.jsonl').read_text().splitlines()]
    assert [r['label'] for r in rows] == LABELS


def test_leading_silence_definition():
    sr = 16000
    wave = np.zeros(sr, dtype=np.float32)
    t = np.arange(sr // 2) / sr
    wave[sr // 2:] = 0.5 * np.sin(2 * np.pi * 440 * t)  # sound from 0.5 s
    assert leading_silence_seconds(wave, sr) == pytest.approx(0.49, abs=0.011)
    assert leading_silence_seconds(np.zeros(sr), sr) == pytest.approx(1.0)  # all silent
    assert leading_silence_seconds(np.zeros(0), sr) == 0.0


def test_leading_silence_audit_uses_metainfo():
    samples = make_samples([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    for ds, silence in zip(samples, [0.0, 0.1, 0.5, 0.7]):  # fakes start later: a leak
        ds.set_metainfo(dict(leading_silence=silence))
    metric = VideoMetric(leading_silence_audit=True)
    metric.process({}, samples)
    out = metric.evaluate(4)
    assert out['video/silence/leak_auc'] == 1.0
    assert out['video/silence/score_spearman'] == pytest.approx(1.0)
    assert out['video/silence/mean_fake_s'] == pytest.approx(0.6)


def test_tensor_scores_on_any_device():
    ds = AVDataSample(metainfo=dict(file='a.mp4'))
    ds.gt_label = torch.tensor([1])
    ds.pred_score = torch.tensor(0.75)
    metric = VideoMetric()
    metric.process({}, [ds, make_samples([0], [0.1])[0]])
    assert metric.evaluate(2)['video/auc'] == 1.0


def test_unreadable_clips_are_left_out_and_counted():
    """A dataset placeholder (load_error) must not enter the metrics with a stand-in score."""
    samples = make_samples(LABELS, SCORES)
    bad = make_samples([1, 0], [0.0, 1.0], start=100)  # would change the AUC if counted
    for sample in bad:
        sample.set_metainfo(dict(load_error=f'{sample.file}: zero-byte file'))
    metric = VideoMetric(leading_silence_audit=True)
    for sample in samples:
        sample.set_metainfo(dict(leading_silence=0.1))
    metric.process({}, samples + bad)  # the audit does not try to read the unreadable files
    out = metric.compute_metrics(list(metric.results))
    assert out['num_clips'] == 60 and out['num_unreadable'] == 2
    assert out['auc'] == pytest.approx(brute_force_auc(LABELS, SCORES))
    clean = VideoMetric()
    clean.process({}, samples)
    assert 'num_unreadable' not in clean.compute_metrics(list(clean.results))
