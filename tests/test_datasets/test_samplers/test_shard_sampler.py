"""ShardSampler: each rank gets whole shards; across ranks every clip comes exactly once."""

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from holaframe.datasets import AVDeepfake1MDataset, PackedClipDataset
from holaframe.datasets.clip_packing import pack_dataset
from holaframe.datasets.samplers import ShardSampler, assign_shards
from holaframe.datasets.samplers import shard_sampler as module
from holaframe.registry import DATA_SAMPLERS
from holaframe.testing import generate_synthetic_avdf

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=4),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=None, scale=(8, 8)),
    dict(type='PackAVInputs'),
]


@pytest.fixture(scope='module')
def packed(tmp_path_factory):
    """7 clips in shards of 2 (the last one holds 1)."""
    root = tmp_path_factory.mktemp('shard_sampler')
    generate_synthetic_avdf(str(root / 'data'), num_train=6, num_val=0, num_testA=0,
                            num_testB=0, seed=1, num_silent=1, duration_range=(2.5, 2.5),
                            frame_size=32, silent_size=(32, 32))
    source = AVDeepfake1MDataset(data_root=str(root / 'data'), subset='train')
    pack_dataset(source, PIPELINE, str(root / 'pack'), shard_size=2, progress=False)
    return PackedClipDataset(str(root / 'pack'), pipeline=PIPELINE)


def _ranks(monkeypatch, dataset, world_size, **kwargs):
    samplers = []
    for rank in range(world_size):
        with monkeypatch.context() as m:
            m.setattr(module, 'get_dist_info', lambda r=rank: (r, world_size))
            samplers.append(ShardSampler(dataset, seed=0, **kwargs))
    return samplers


@pytest.mark.parametrize('world_size', [1, 2, 3, 4])
def test_every_clip_exactly_once_across_ranks(packed, monkeypatch, world_size):
    assert len(packed) == 7 and packed.shard_ids.tolist() == [0, 0, 1, 1, 2, 2, 3]
    samplers = _ranks(monkeypatch, packed, world_size, round_up=False)
    drawn = [list(s) for s in samplers]
    assert sorted(i for d in drawn for i in d) == list(range(len(packed)))
    shards = [set(packed.shard_ids[d].tolist()) for d in drawn]
    for rank, s in enumerate(samplers):  # each rank reads only its own, whole shards
        assert shards[rank] == set(s.shards)
        assert sorted(s.indices.tolist()) == sorted(drawn[rank])
        assert all(not shards[rank] & shards[r] for r in range(world_size) if r != rank)
    # round_up: equal lengths (DDP), padding repeats the rank's own clips only.
    padded = _ranks(monkeypatch, packed, world_size)
    assert len({len(s) for s in padded}) == 1
    for s, d in zip(padded, drawn):
        assert set(s) == set(d) and len(list(s)) == len(s)


def test_epochs_reshuffle_within_the_rank(packed, monkeypatch):
    s, = _ranks(monkeypatch, packed, 1)
    first = list(s)
    s.set_epoch(1)
    assert sorted(list(s)) == sorted(first) and list(s) != first
    assert list(ShardSampler(packed, seed=0, shuffle=False)) == list(range(7))


def test_assignment_is_balanced_and_refuses_too_few_shards(packed, monkeypatch):
    rng = np.random.default_rng(0)
    sizes = {s: int(n) for s, n in enumerate(rng.integers(1, 50, size=40))}
    parts = assign_shards(sizes, 8)
    assert sorted(s for p in parts for s in p) == list(sizes)
    loads = [sum(sizes[s] for s in p) for p in parts]
    assert max(loads) - min(loads) <= max(sizes.values())
    with pytest.raises(ValueError, match='4 shard.* for 5 ranks'):
        _ranks(monkeypatch, packed, 5)
    with pytest.raises(TypeError, match='needs a dataset with shard_ids'):
        ShardSampler(list(range(3)))
    init_default_scope('holaframe')
    built = DATA_SAMPLERS.build(dict(type='ShardSampler', shuffle=False), default_args=dict(
        dataset=packed, seed=0))
    assert isinstance(built, ShardSampler) and len(built) == 7
