"""The robustness heatmap: one panel per metric, cells annotated, missing cells marked."""

import numpy as np
import pytest

from holaframe.visualization import figure_to_rgb, robustness_heatmap_figure


def test_panels_annotations_and_missing_cells():
    auc = np.array([[0.9, 0.8, np.nan], [0.7, 0.6, 0.65]])
    acc = np.array([[90.0, 80.0, np.nan], [70.0, 60.0, 65.0]])
    fig = robustness_heatmap_figure(['h264', 'mp3'], ['1', '5', 'mean'],
                                    {'AUC': auc, 'ACC (%)': acc},
                                    clean={'AUC': 0.95, 'ACC (%)': 93.0},
                                    ranges={'AUC': (0.5, 1.0)}, title='demo')
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ['AUC (clean 0.950)', 'ACC (%) (clean 93.0)']
    texts = [t.get_text() for t in axes[0].texts]
    assert texts == ['0.900', '0.800', '-', '0.700', '0.600', '0.650']
    assert [t.get_text() for t in axes[1].texts][:2] == ['90.0', '80.0']
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ['h264', 'mp3']
    image = figure_to_rgb(fig)
    assert image.dtype == np.uint8 and image.std() > 0


def test_shape_mismatch_and_no_panel_are_refused():
    with pytest.raises(ValueError, match=r"panel 'AUC' has shape \(1, 2\), expected \(2, 2\)"):
        robustness_heatmap_figure(['a', 'b'], ['1', '2'], {'AUC': np.zeros((1, 2))})
    with pytest.raises(ValueError, match='no metric'):
        robustness_heatmap_figure(['a'], ['1'], {})
