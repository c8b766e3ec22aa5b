"""Metrics."""

from .submission_writer import SubmissionWriter
from .video_metric import VideoMetric

__all__ = ['VideoMetric', 'SubmissionWriter']
