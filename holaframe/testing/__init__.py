"""Helpers for tests, demos and tools: generated data, dummy batches and small learning tasks.

Like ``mmpretrain.testing`` and ``mmdet.testing``, this package sits above ``datasets`` and
``models`` (it uses both) and is imported by tests, benchmarks and tools, never by the library.
"""

from .dummy_batch import build_dummy_batch, make_tiny_avdf

__all__ = ['build_dummy_batch', 'make_tiny_avdf']
