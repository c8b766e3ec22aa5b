"""Metrics."""

from .error_report_writer import ErrorReportWriter
from .localization_metric import LocalizationMetric
from .prediction_writer import PredictionWriter
from .submission_writer import SubmissionWriter
from .track2_submission_writer import Track2SubmissionWriter
from .video_metric import VideoMetric

__all__ = [
    'VideoMetric', 'SubmissionWriter', 'PredictionWriter', 'ErrorReportWriter',
    'LocalizationMetric', 'Track2SubmissionWriter'
]
