"""Data samplers."""

from .shard_sampler import ShardSampler, assign_shards

__all__ = ['ShardSampler', 'assign_shards']
