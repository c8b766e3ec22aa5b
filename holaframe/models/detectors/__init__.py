"""Detectors: full models with forward(inputs, data_samples, mode)."""

from .av_alignment_detector import AVAlignmentDetector
from .hola_detector import HOLADetector
from .hola_single_modality_detector import HOLASingleModalityDetector
from .single_modality_classifier import SingleModalityClassifier

__all__: list = ['AVAlignmentDetector', 'HOLADetector', 'HOLASingleModalityDetector',
                 'SingleModalityClassifier']
