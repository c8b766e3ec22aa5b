"""Evaluation: metrics, the challenge submission format, the leading-silence audit."""

from .bootstrap import (
    bootstrap_ci,
    bootstrap_indices,
    bootstrap_localization_metrics,
    bootstrap_video_metrics,
    paired_bootstrap_difference,
)
from .functional import binary_video_metrics, check_binary_labels, rank_auc
from .leading_silence import file_leading_silence, leading_silence_seconds
from .localization_functional import localization_metrics, track2_score
from .metrics import *  # noqa: F401,F403
from .metrics import (
    ErrorReportWriter,
    LocalizationMetric,
    PredictionWriter,
    SubmissionWriter,
    Track2SubmissionWriter,
    VideoMetric,
)
from .submission import (
    read_submission,
    read_track2_submission,
    write_submission,
    write_track2_submission,
)

__all__ = [
    'VideoMetric', 'SubmissionWriter', 'PredictionWriter', 'ErrorReportWriter',
    'binary_video_metrics', 'bootstrap_ci', 'bootstrap_indices', 'bootstrap_video_metrics',
    'paired_bootstrap_difference',
    'check_binary_labels', 'rank_auc',
    'file_leading_silence', 'leading_silence_seconds', 'read_submission',
    'write_submission', 'LocalizationMetric', 'Track2SubmissionWriter',
    'bootstrap_localization_metrics', 'localization_metrics', 'track2_score',
    'read_track2_submission', 'write_track2_submission'
]
