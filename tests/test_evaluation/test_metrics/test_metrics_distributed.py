"""VideoMetric and SubmissionWriter with 2 ranks (gloo on CPU): each clip counted once."""

import json
import os
import socket

import numpy as np
import pytest
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler

from holaframe.evaluation import SubmissionWriter, VideoMetric, read_submission
from holaframe.structures import AVDataSample

NUM = 61  # odd: the sampler pads rank 1 with a repeated clip
RNG = np.random.default_rng(1)
LABELS = [int(v) for v in RNG.integers(0, 2, NUM)]
SCORES = [round(float(v), 2) for v in RNG.random(NUM)]


def _sample(i):
    ds = AVDataSample(metainfo=dict(file=f'v/{i:03d}.mp4', sample_idx=i))
    return ds.set_gt_label(LABELS[i]).set_pred_score(SCORES[i])


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        sampler = DefaultSampler(list(range(NUM)), shuffle=True, seed=3, round_up=True)
        indices = list(sampler)
        metric = VideoMetric()
        writer = SubmissionWriter(out_file=os.path.join(out_dir, 'sub.txt'))
        padded = VideoMetric(prefix='padded')
        for start in range(0, len(indices), 4):  # batches of 4
            batch = [_sample(i) for i in indices[start:start + 4]]
            for m in (metric, writer, padded):
                m.process({}, batch)
        result = metric.evaluate(NUM)
        result.update(writer.evaluate(NUM))
        # A size that keeps the padding: only the deduplication keeps each clip once.
        result.update(padded.evaluate(2 * len(indices)))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(result=result, indices=indices), f)
    finally:
        torch_dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_ranks_match_single_process(tmp_path):
    # fork: the children reuse the imported modules (spawn would re-import torch twice).
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True,
                       start_method='fork')
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]
    all_indices = ranks[0]['indices'] + ranks[1]['indices']
    assert len(all_indices) == NUM + 1 and len(set(all_indices)) == NUM  # one clip padded

    single = VideoMetric()
    single.process({}, [_sample(i) for i in range(NUM)])
    expected = single.evaluate(NUM)
    for rank in ranks:  # every rank receives the same numbers
        result = rank['result']
        for key, value in expected.items():
            assert result[key] == pytest.approx(value), key
            assert result[key.replace('video/', 'padded/')] == pytest.approx(value), key
        assert result['submission/num_lines'] == NUM
    lines = read_submission(str(tmp_path / 'sub.txt'))
    assert [f for f, _ in lines] == [f'v/{i:03d}.mp4' for i in range(NUM)]
    assert [s for _, s in lines] == pytest.approx(SCORES)
