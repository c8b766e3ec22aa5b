"""Necks between encoders and fusion (e.g. temporal alignment, Sec. 3.2.2)."""

from .temporal_alignment_neck import TemporalAlignmentNeck

__all__: list = ['TemporalAlignmentNeck']
