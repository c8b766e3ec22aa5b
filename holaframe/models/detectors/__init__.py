"""Detectors: full models with forward(inputs, data_samples, mode)."""

from .hola_detector import HOLADetector

__all__: list = ['HOLADetector']
