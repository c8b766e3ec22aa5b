"""Post-processors: model outputs -> task predictions (segment proposals)."""

from .segment_post_processor import SegmentPostProcessor

__all__: list = ['SegmentPostProcessor']
