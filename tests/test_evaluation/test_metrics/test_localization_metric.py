"""LocalizationMetric: Track 2 keys and values in an MMEngine evaluator, sorting, each video
once (padding and 2 gloo ranks, with the Track 2 writer), skipped and unreadable videos, clear
errors."""

import json
import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler
from mmengine.evaluator import Evaluator

from holaframe.evaluation import LocalizationMetric, Track2SubmissionWriter, localization_metrics
from holaframe.registry import METRICS
from holaframe.structures import AVDataSample

SEG = [[1.0, 2.0]]


def _sample(file, idx, proposals, segments, label=None):
    ds = AVDataSample(metainfo=dict(file=file, sample_idx=idx, fake_segments=segments))
    ds.set_gt_label(int(bool(segments)) if label is None else label)
    ds.pred_segments = torch.tensor(proposals, dtype=torch.float32)
    return ds


def _hand_set():
    return [_sample('a.mp4', 0, [[0.9, 1.0, 2.0]], SEG),
            _sample('b.mp4', 1, [[0.8, 1.0, 2.0]], SEG),
            _sample('r.mp4', 2, [[0.1, 0.0, 1.0]], [])]


def test_keys_and_hand_values_in_an_evaluator():
    evaluator = Evaluator([METRICS.build(dict(type='LocalizationMetric'))])
    samples = _hand_set()
    # An unlabeled (testA) video is not evaluated.
    samples.append(_sample('u.mp4', 3, [[0.99, 1.0, 2.0]], [], label=-1))
    evaluator.process(samples[:2])
    evaluator.process(samples[2:])
    out = evaluator.evaluate(4)
    assert set(out) == {
        'track2/ap@0.5', 'track2/ap@0.75', 'track2/ap@0.9', 'track2/ap@0.95', 'track2/ar@50',
        'track2/ar@30', 'track2/ar@20', 'track2/ar@10', 'track2/ar@5', 'track2/mean_ap',
        'track2/mean_ar', 'track2/score', 'track2/num_videos', 'track2/num_fake',
        'track2/num_segments'}
    # Two perfect proposals: AP 1/2 (the first recall step is not counted), AR 1.
    assert out['track2/ap@0.95'] == 0.5 and out['track2/ar@5'] == 1.0
    assert out['track2/score'] == pytest.approx(0.75)
    assert (out['track2/num_videos'], out['track2/num_fake'], out['track2/num_segments']) == (
        3, 2, 2)


def test_proposals_are_sorted_by_confidence():
    # Listed 0.3 then 0.9 for the same segment: the SDK would match the 0.3 one (AP 2/3); the
    # metric sorts, as the submission writer does, and scores the file it writes (AP 1/2).
    unsorted = [[0.3, 1.0, 2.0], [0.9, 1.0, 2.0]]
    metric = LocalizationMetric()
    metric.process({}, [_sample('a.mp4', 0, unsorted, SEG),
                        _sample('b.mp4', 1, [[0.5, 1.0, 2.0]], SEG)])
    out = metric.evaluate(2)
    assert out['track2/ap@0.5'] == pytest.approx(0.5)
    raw = localization_metrics([unsorted, [[0.5, 1.0, 2.0]]], [SEG, SEG])
    assert raw['ap'][0.5] == pytest.approx(2 / 3, abs=1e-6)


def test_padded_duplicates_counted_once():
    once, twice = LocalizationMetric(), LocalizationMetric()
    once.process({}, _hand_set())
    twice.process({}, _hand_set() + _hand_set()[:1])
    assert once.evaluate(3) == twice.evaluate(3)


def test_unreadable_videos_are_left_out_and_counted():
    samples = _hand_set()
    bad = _sample('x.mp4', 3, [[0.5, 0.0, 1.0]], SEG)
    bad.set_metainfo(dict(load_error='x.mp4: zero-byte file'))
    metric = LocalizationMetric()
    metric.process({}, samples + [bad])
    out = metric.evaluate(4)
    assert out['track2/num_unreadable'] == 1 and out['track2/num_segments'] == 2


def test_clear_errors():
    metric = LocalizationMetric()
    with pytest.raises(ValueError, match=r"'e.mp4'.*no proposal"):
        metric.process({}, [_sample('e.mp4', 0, np.zeros((0, 3)), SEG)])
    missing = AVDataSample(metainfo=dict(file='m.mp4', sample_idx=0, fake_segments=SEG))
    missing.set_gt_label(1)
    with pytest.raises(KeyError, match='m.mp4'):
        metric.process({}, [missing])
    only_real = LocalizationMetric()
    only_real.process({}, [_sample('r.mp4', 0, [[0.5, 0.0, 1.0]], [])])
    with pytest.raises(ValueError, match='fake segment'):
        only_real.evaluate(1)
    with pytest.raises(ValueError, match='IoU thresholds'):
        LocalizationMetric(ap_iou_thresholds=(1.5, ))


NUM = 23  # odd: the sampler pads rank 1 with a repeated video
RNG = np.random.default_rng(5)
SEGMENTS = [[] if RNG.random() < 0.3 else [[1.0, 2.0]] * int(RNG.integers(1, 3)) for _ in
            range(NUM)]
PROPOSALS = [np.c_[RNG.random(4), np.sort(RNG.random((4, 2)) * 3, axis=1)].round(3).tolist()
             for _ in range(NUM)]


def _dist_sample(i):
    return _sample(f'v/{i:03d}.mp4', i, PROPOSALS[i], SEGMENTS[i])


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        indices = list(DefaultSampler(list(range(NUM)), shuffle=True, seed=3, round_up=True))
        metric = LocalizationMetric()
        writer = Track2SubmissionWriter(out_file=os.path.join(out_dir, 'dist.json'))
        for start in range(0, len(indices), 4):
            batch = [_dist_sample(i) for i in indices[start:start + 4]]
            metric.process({}, batch)
            writer.process({}, batch)
        # A size that keeps the padding: only the deduplication keeps each video once.
        result = metric.evaluate(2 * len(indices))
        result.update(writer.evaluate(NUM))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
    finally:
        torch_dist.destroy_process_group()


def test_two_ranks_match_single_process(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.start_processes(_worker, args=(port, str(tmp_path)), nprocs=2, join=True,
                       start_method='fork')
    rank0 = json.loads((tmp_path / 'rank0.json').read_text())
    single = LocalizationMetric()
    single.process({}, [_dist_sample(i) for i in range(NUM)])
    expected = single.evaluate(NUM)
    single_writer = Track2SubmissionWriter(out_file=str(tmp_path / 'single.json'))
    single_writer.process({}, [_dist_sample(i) for i in range(NUM)])
    expected.update(single_writer.evaluate(NUM))
    assert rank0 == pytest.approx(expected)
    assert rank0['track2/num_videos'] == NUM
    assert (tmp_path / 'dist.json').read_text() == (tmp_path / 'single.json').read_text()
