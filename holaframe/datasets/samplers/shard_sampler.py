"""Give each distributed rank whole shards of a packed dataset."""

import math
from collections import Counter
from typing import Dict, Iterator, List, Optional, Sized

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from holaframe.registry import DATA_SAMPLERS

__all__ = ['ShardSampler', 'assign_shards']


def assign_shards(sizes: Dict[int, int], world_size: int) -> List[List[int]]:
    """Split shards among ranks: each shard to exactly one rank, the clip counts balanced.

    Greedy: the largest shards first, each to the rank holding the fewest clips so far (ties:
    the lower shard id, the lower rank). Deterministic, so every rank computes the same split.

    Args:
        sizes: Shard id -> clips in the shard.
        world_size: Number of ranks.

    Returns:
        The sorted shard ids of each rank.
    """
    if world_size < 1:
        raise ValueError(f'world_size must be >= 1, got {world_size}')
    loads = [0] * world_size
    out: List[List[int]] = [[] for _ in range(world_size)]
    for shard in sorted(sizes, key=lambda s: (-sizes[s], s)):
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        out[rank].append(shard)
        loads[rank] += sizes[shard]
    return [sorted(a) for a in out]


@DATA_SAMPLERS.register_module()
class ShardSampler(Sampler):
    """Each rank draws only the samples of its own shards (:func:`assign_shards`).

    For a :class:`~holaframe.datasets.PackedClipDataset` under DDP / DeepSpeed: a rank reads a
    fixed ``1 / world_size`` of the pack (the same shards every epoch), so a node's page cache
    or local disk needs to hold only its ranks' shards. Every sample belongs to exactly one
    rank. Within a rank the order is shuffled per epoch (``seed + epoch``, as
    ``DefaultSampler``). With ``round_up`` every rank yields as many indices as the largest
    rank holds (DDP needs equal lengths): the others repeat their first indices of the epoch.

    Use it in a config as ``train_dataloader.sampler = dict(type='ShardSampler',
    shuffle=True)``. The pack must have at least ``world_size`` shards (choose
    ``--shard-size`` accordingly); balance is best with many shards per rank.

    Args:
        dataset: A dataset with ``shard_ids`` (the shard of each sample).
        shuffle: Shuffle within the rank each epoch.
        seed: Shuffle seed (the same on every rank; None: a synchronised random seed).
        round_up: Pad every rank to the largest rank's length.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        shard_ids = getattr(dataset, 'shard_ids', None)
        if shard_ids is None:
            raise TypeError(f'ShardSampler needs a dataset with shard_ids (PackedClipDataset), '
                            f'got {type(dataset).__name__}; use DefaultSampler for it')
        shard_ids = np.asarray(shard_ids, np.int64)
        rank, world_size = get_dist_info()
        sizes = Counter(shard_ids.tolist())
        if len(sizes) < world_size:
            raise ValueError(f'ShardSampler: {len(sizes)} shard(s) for {world_size} ranks; '
                             'pack with a smaller --shard-size (at least one shard per rank)')
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self.round_up = round_up
        self.assignment = assign_shards(dict(sizes), world_size)
        self.shards = self.assignment[rank]
        self.indices = np.flatnonzero(np.isin(shard_ids, self.shards))
        largest = max(sum(sizes[s] for s in a) for a in self.assignment)
        self.num_samples = largest if round_up else len(self.indices)

    def __iter__(self) -> Iterator[int]:
        indices = self.indices
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = indices[torch.randperm(len(indices), generator=g).numpy()]
        if self.round_up and len(indices) < self.num_samples:
            indices = np.tile(indices, math.ceil(self.num_samples / len(indices)))
        return iter(indices[:self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch (a new order within the rank)."""
        self.epoch = epoch
