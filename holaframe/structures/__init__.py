"""Data structures exchanged between the pipeline, the models and the metrics."""

from .av_data_sample import AVDataSample

__all__ = ['AVDataSample']
