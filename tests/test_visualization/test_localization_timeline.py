"""localization_timeline_figure: curve, found and annotated segments, argument checks."""

import numpy as np
import pytest

from holaframe.visualization import figure_to_rgb, localization_timeline_figure


def test_draws_curve_found_and_annotated_segments():
    times = (np.arange(100) + 0.5) / 25
    scores = np.where((times > 3.0) & (times < 3.4), 0.9, 0.1)
    fig = localization_timeline_figure(scores, times, [[0.9, 3.0, 3.4], [0.2, 1.0, 1.2]],
                                       [[3.0, 3.4]], duration=4.0, title='clip.mp4')
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 4.0)
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ['found segment', 'annotated fake', 'frame fake probability']
    # Only the found segment above the threshold is shaded (plus its confidence label).
    assert [t.get_text() for t in ax.texts] == ['0.90']
    assert np.allclose(ax.lines[0].get_xdata(), times)
    rgb = figure_to_rgb(fig)
    assert rgb.ndim == 3 and rgb.shape[2] == 3


def test_best_segment_shown_even_below_threshold_and_no_metadata():
    times = np.arange(10) * 0.04
    fig = localization_timeline_figure(np.zeros(10), times, [[0.1, 0.1, 0.2]], None)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ['0.10']
    assert 'annotated fake' not in ax.get_legend_handles_labels()[1]


def test_bad_arguments():
    with pytest.raises(ValueError, match='no frame scores'):
        localization_timeline_figure([], [])
    with pytest.raises(ValueError, match='2 times but 3 scores'):
        localization_timeline_figure([0.1, 0.2, 0.3], [0.0, 0.04])
