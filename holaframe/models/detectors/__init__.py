"""Detectors: full models with forward(inputs, data_samples, mode)."""

from .hola_detector import HOLADetector
from .hola_single_modality_detector import HOLASingleModalityDetector
from .single_modality_classifier import SingleModalityClassifier

__all__: list = ['HOLADetector', 'HOLASingleModalityDetector', 'SingleModalityClassifier']
