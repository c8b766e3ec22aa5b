"""Data preprocessors (batching, device move, normalisation)."""

__all__: list = []
