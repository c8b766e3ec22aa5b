"""Data preprocessors (batching, device move, normalisation)."""

from .av_data_preprocessor import AVDataPreprocessor

__all__: list = ['AVDataPreprocessor']
