"""Metrics."""

from .error_report_writer import ErrorReportWriter
from .prediction_writer import PredictionWriter
from .submission_writer import SubmissionWriter
from .video_metric import VideoMetric

__all__ = ['VideoMetric', 'SubmissionWriter', 'PredictionWriter', 'ErrorReportWriter']
