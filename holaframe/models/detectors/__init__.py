"""Detectors: full models with forward(inputs, data_samples, mode)."""

__all__: list = []
