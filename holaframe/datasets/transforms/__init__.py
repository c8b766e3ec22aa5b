"""Data transforms (decoding, sampling, features, packing)."""

__all__: list = []
