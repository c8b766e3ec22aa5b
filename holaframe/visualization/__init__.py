"""Visualisation: ROC curves, score histograms, frame-score timelines, robustness heatmaps and
their visualizer.

Figures are built on matplotlib's Agg canvas without pyplot, so the library never selects a
matplotlib backend; tools that display figures choose one.
"""

from .deepfake_visualizer import DeepfakeVisualizer
from .figure_io import figure_to_rgb, new_figure, save_figure
from .frame_timeline import frame_timeline_figure
from .localization_timeline import localization_timeline_figure
from .robustness_heatmap import robustness_heatmap_figure
from .roc import roc_figure, save_roc_curve
from .score_histograms import score_histogram_figure

__all__ = [
    'DeepfakeVisualizer', 'roc_figure', 'save_roc_curve', 'score_histogram_figure',
    'frame_timeline_figure', 'figure_to_rgb', 'new_figure', 'save_figure',
    'robustness_heatmap_figure', 'localization_timeline_figure'
]
