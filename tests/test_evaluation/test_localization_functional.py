"""Track 2 AP / AR / score: hand-computed cases, the official SDK's saved results, the live SDK.

The hand-computed values follow the SDK's arithmetic (docs/evaluation.md, "Track 2"): AP skips
the recall step of the top-ranked proposal, a match needs IoU > threshold, AR takes the first n
listed proposals. Every hand case was also scored by ``avdeepfake1m`` 0.0.4 (the saved fixture
``tests/data/track2_sdk_reference.json`` holds some of them).
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holaframe.evaluation.localization_functional import (
    AP_IOU_THRESHOLDS,
    AR_IOU_THRESHOLDS,
    AR_NUM_PROPOSALS,
    LocalizationCounts,
    ap_from_ranking,
    localization_metrics,
    segment_iou,
    sort_proposals,
    track2_score,
    unrolled_sum,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / 'tests' / 'data' / 'track2_sdk_reference.json'
SEG = [[1.0, 2.0]]


def metrics(proposals, segments, **kwargs):
    return localization_metrics(proposals, segments, **kwargs)


def test_one_perfect_proposal_scores_ap_zero():
    # The curve starts at the top-ranked proposal: its recall step (0 -> 1) is not counted.
    out = metrics([[[0.9, 1.0, 2.0]]], [SEG])
    assert out['ap'] == {t: 0.0 for t in AP_IOU_THRESHOLDS}
    assert out['ar'] == {n: 1.0 for n in AR_NUM_PROPOSALS}
    assert out['score'] == pytest.approx(0.5)


def test_two_perfect_videos_score_ap_half():
    out = metrics([[[0.9, 1.0, 2.0]], [[0.8, 1.0, 2.0]]], [SEG, SEG])
    assert out['ap'] == {t: 0.5 for t in AP_IOU_THRESHOLDS}
    assert out['score'] == pytest.approx(0.75)


def test_one_frame_off_boundaries():
    # 25 fps: one frame = 0.04 s. IoU 0.96 (> 0.95) and 0.92 (in (0.9, 0.95)).
    props = [[[0.9, 1.0, 2.0]], [[0.8, 1.04, 2.0]], [[0.7, 1.0, 1.92]]]
    out = metrics(props, [SEG, SEG, SEG])
    # 3 TPs at <= 0.9: recall 1/3, 2/3, 1 at precision 1, first step dropped -> 2/3.
    for t in (0.5, 0.75, 0.9):
        assert out['ap'][t] == pytest.approx(2 / 3, abs=1e-6)
    # At 0.95 the third is a FP: only the step 1/3 -> 2/3 counts.
    assert out['ap'][0.95] == pytest.approx(1 / 3, abs=1e-6)
    # AR: every segment recalled at 9 of 10 thresholds, 2 of 3 at 0.95.
    assert out['ar'][5] == pytest.approx((9 + 2 / 3) / 10, abs=1e-6)


def test_iou_equal_to_threshold_is_no_match():
    ious = segment_iou(*(np.float32([v]) for v in (0.0, 3.0, 0.0, 4.0)))
    assert ious[0] == np.float32(0.75)
    out = metrics([[[0.9, 1.0, 2.0]], [[0.8, 0.0, 3.0]]], [SEG, [[0.0, 4.0]]])
    assert out['ap'][0.5] == 0.5 and out['ap'][0.75] == 0.0
    assert out['ar'][50] == pytest.approx(0.75)  # recalled at 0.5-0.7 only for the second


def test_duplicates_are_false_positives():
    # The duplicate (tied confidence, listed second) is a FP ranked before video b's TP.
    out = metrics([[[0.9, 1.0, 2.0], [0.9, 1.0, 2.0]], [[0.5, 1.0, 2.0]]], [SEG, SEG])
    assert out['ap'][0.5] == pytest.approx(1 / 3, abs=1e-6)  # (1 - 1/2) * 2/3
    assert out['ar'][50] == 1.0


def test_unsorted_lists_match_in_listed_order():
    segs = [SEG, SEG]
    unsorted = [[[0.3, 1.0, 2.0], [0.9, 1.0, 2.0]], [[0.5, 1.0, 2.0]]]
    # The segment of a takes its first listed proposal (0.3): the 0.9 one becomes the top FP.
    assert metrics(unsorted, segs)['ap'][0.5] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics([sort_proposals(np.array(p)) for p in unsorted],
                   segs)['ap'][0.5] == pytest.approx(0.5)
    # AR@1 takes the first listed proposal, not the most confident one.
    listed = [[[0.2, 1.0, 2.0], [0.9, 5.0, 6.0]]]
    assert metrics(listed, [SEG], ar_num_proposals=(1, ))['ar'][1] == 1.0
    assert metrics([sort_proposals(np.array(listed[0]))], [SEG],
                   ar_num_proposals=(1, ))['ar'][1] == 0.0


def test_real_videos_count_in_ap_only():
    two = [[[0.9, 1.0, 2.0]], [[0.8, 1.0, 2.0]]]
    base = metrics(two, [SEG, SEG])
    # A real video's proposal ranked first is a FP; it turns the dropped first step into a
    # zero step, so AP rises from 1/2 to 2/3 (the SDK gives the same).
    top = metrics(two + [[[0.95, 0.0, 1.0]]], [SEG, SEG, []])
    assert top['ap'][0.5] == pytest.approx(2 / 3, abs=1e-6)
    assert top['ar'] == base['ar']
    # Ranked last it changes nothing.
    last = metrics(two + [[[0.1, 0.0, 1.0]]], [SEG, SEG, []])
    assert last['ap'] == base['ap']


def test_no_fake_segment_gives_nan_ap():
    out = metrics([[[0.5, 0.0, 1.0]]], [[]])
    assert all(math.isnan(v) for v in out['ap'].values())
    assert out['ar'] == {n: 0.0 for n in AR_NUM_PROPOSALS}
    assert math.isnan(out['score'])


@pytest.mark.parametrize('bad, match', [
    (np.zeros((0, 3)), 'no proposal'),
    ([[0.5, 1.0]], r'shape \(N, 3\)'),
    ([[float('nan'), 1.0, 2.0]], 'not finite'),
])
def test_bad_proposals_name_the_video(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        localization_metrics([[[0.9, 1.0, 2.0]], bad], [SEG, SEG], names=['a.mp4', 'b.mp4'])
    assert "'b.mp4'" in str(info.value)


def test_bad_segments_and_lengths():
    with pytest.raises(ValueError, match='fake_segments'):
        localization_metrics([[[0.9, 1.0, 2.0]]], [[[1.0, 2.0, 3.0]]])
    with pytest.raises(ValueError, match='proposal lists'):
        localization_metrics([[[0.9, 1.0, 2.0]]], [SEG, SEG])
    with pytest.raises(ValueError, match='no video'):
        localization_metrics([], [])


def test_ap_from_ranking_by_hand():
    # Ranked TP, FP, TP, FP with 4 segments: recall 1/4, 1/4, 1/2, 1/2; precision 1, 1/2, 2/3,
    # 1/2. Counted steps: 1/4 -> 1/4 (0) and 1/4 -> 1/2 at max precision after it, 2/3.
    ap = ap_from_ranking(np.array([True, False, True, False]), 4)
    assert ap == pytest.approx(0.25 * 2 / 3, abs=1e-7)


def test_unrolled_sum_order():
    # float32 rounding makes the order visible: 2**24 + 1 is not representable.
    big = np.float32(2 ** 24)
    values = np.array([big, 1, 1, 1, -big, 1, 1, 1, 1], np.float32)
    # Partials p0..p7 = (2^24, 1, 1, 1, -2^24, 1, 1, 1); (p0 + p4) = 0; the rest exact: 7 + 1.
    assert unrolled_sum(values) == np.float32(7)
    assert float(np.float32(sum(np.float64(values)))) == 7.0  # exact value, for comparison
    left_to_right = np.float32(0)
    for v in values:
        left_to_right = np.float32(left_to_right + v)
    assert left_to_right == np.float32(4)  # 2^24 + 1 + 1 + 1 rounds away every 1


def test_counts_reuse_for_resamples():
    rng = np.random.default_rng(0)
    props = [np.c_[rng.random(5), np.sort(rng.random((5, 2)) * 4, axis=1)] for _ in range(6)]
    segs = [[[1.0, 2.0]], [], [[0.5, 1.5], [2.0, 3.0]], [[0.0, 1.0]], [], [[3.0, 3.5]]]
    counts = LocalizationCounts(props, segs)
    idx = np.array([2, 2, 0, 5, 1, 3])
    direct = localization_metrics([props[i] for i in idx], [segs[i] for i in idx])
    assert counts.ap(idx) == direct['ap']
    assert counts.ar(idx) == direct['ar']


def _close(got, want, tol):
    return got == want if tol == 0 else abs(got - want) <= tol


def _check_against(cases, tol=1e-6):
    for case in cases:
        names = [m['file'] for m in case['metadata']]
        out = localization_metrics([case['proposals'][n] for n in names],
                                   [m['fake_segments'] for m in case['metadata']], names=names)
        sdk = case['sdk']
        for t in AP_IOU_THRESHOLDS:
            want = sdk['ap'][str(t)]
            if want is None:
                assert math.isnan(out['ap'][t]), (case['name'], t)
            else:
                assert _close(out['ap'][t], want, tol), (case['name'], t, out['ap'][t], want)
        for n in AR_NUM_PROPOSALS:
            want = sdk['ar'][str(n)]
            assert _close(out['ar'][n], want, tol), (case['name'], n, out['ar'][n], want)


@pytest.mark.parity
def test_matches_saved_sdk_results():
    data = json.loads(FIXTURE.read_text())
    assert data['sdk']['version'] == '0.0.4'
    assert data['sdk']['args']['ar_iou_thresholds'] == list(AR_IOU_THRESHOLDS)
    assert [c['name'] for c in data['cases']][:2] == ['random', 'one_perfect']
    assert len(data['cases'][0]['metadata']) == 50
    _check_against(data['cases'])


def _sdk_python():
    """An interpreter with the official SDK: $AVDEEPFAKE1M_PYTHON, this one, or a venv built
    under .cache/ (``holaframe.testing.official_sdk``); the skip reason says why none."""
    if os.environ.get('AVDEEPFAKE1M_PYTHON'):
        return os.environ['AVDEEPFAKE1M_PYTHON'], ''
    if importlib.util.find_spec('avdeepfake1m') is not None:
        return sys.executable, ''
    from holaframe.testing.official_sdk import SDK_REQUIREMENT, official_sdk_python
    return official_sdk_python(str(REPO / '.cache' / SDK_REQUIREMENT.replace('==', '-')))


def test_matches_live_sdk(tmp_path):
    python, reason = _sdk_python()
    if not python:
        pytest.skip(f'the official SDK cannot be built here: {reason}')
    out = tmp_path / 'live.json'
    subprocess.run([python, str(REPO / 'tools' / 'misc' / 'make_track2_sdk_fixture.py'),
                    '--out', str(out), '--seed', '7', '--num-videos', '300'], check=True,
                   cwd=REPO, timeout=120)
    cases = json.loads(out.read_text())['cases']
    assert len(cases[0]['metadata']) == 300
    _check_against(cases, tol=0.0)


def test_score_is_the_mean_of_means():
    ap = {0.5: 0.4, 0.75: 0.2, 0.9: 0.1, 0.95: 0.1}
    ar = {50: 0.9, 30: 0.8, 20: 0.7, 10: 0.6, 5: 0.5}
    assert track2_score(ap, ar) == pytest.approx(0.5 * 0.2 + 0.5 * 0.7)


def test_sdk_env_reports_why_it_cannot_be_built(tmp_path, monkeypatch):
    from holaframe.testing.official_sdk import official_sdk_python
    monkeypatch.setenv('PIP_NO_INDEX', '1')  # no package index: the install must fail
    python, reason = official_sdk_python(str(tmp_path / 'sdk'), timeout=120)
    assert python is None
    assert 'pip could not install avdeepfake1m==0.0.4' in reason and 'avdeepfake1m' in reason
