"""Plots of holaframe.visualization: figures, the registered visualizer, no pyplot in library."""

import subprocess
import sys

import numpy as np
import pytest
from mmengine.visualization import LocalVisBackend
from PIL import Image

from holaframe.registry import VISUALIZERS
from holaframe.visualization import (
    DeepfakeVisualizer,
    figure_to_rgb,
    frame_timeline_figure,
    roc_figure,
    save_roc_curve,
    score_histogram_figure,
)


def _labels_scores(n=40, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    return labels, np.clip(0.3 * labels + rng.uniform(0, 0.7, n), 0, 1)


def test_roc_figure_legend_carries_the_auc():
    labels, scores = _labels_scores()
    fig = roc_figure(labels, scores, title='val')
    ax = fig.axes[0]
    from sklearn.metrics import roc_auc_score
    assert ax.get_legend().get_texts()[0].get_text() == (
        f'AUC = {roc_auc_score(labels, scores):.4f}')
    assert ax.get_title() == 'val (n=40)'
    image = figure_to_rgb(fig)
    assert image.shape == (450, 450, 3) and image.dtype == np.uint8 and image.std() > 0


def test_roc_needs_both_classes(tmp_path):
    with pytest.raises(ValueError, match='real \\(0\\) and fake \\(1\\)'):
        roc_figure([1, 1], [0.2, 0.9])
    out = save_roc_curve([0, 1, 1], [0.1, 0.9, 0.4], str(tmp_path / 'a' / 'roc.png'))
    assert Image.open(out).size == (450, 450)


def test_score_histograms_one_outline_per_manipulation_type():
    scores = [0.1, 0.2, 0.9, 0.8, 0.7, 0.4]
    groups = ['real', 'real', 'visual_modified', 'audio_modified', 'both_modified',
              'visual_modified']
    fig = score_histogram_figure(scores, groups=groups, threshold=0.6)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ['audio_modified (n=1, mean 0.80)', 'both_modified (n=1, mean 0.70)',
                     'real (n=2, mean 0.15)', 'visual_modified (n=2, mean 0.65)',
                     'threshold 0.6']
    by_label = score_histogram_figure(scores, labels=[0, 0, 1, 1, 1, -1])
    texts = [t.get_text() for t in by_label.axes[0].get_legend().get_texts()]
    assert texts[:3] == ['fake (n=3, mean 0.80)', 'real (n=2, mean 0.15)',
                         'unlabeled (n=1, mean 0.40)']
    with pytest.raises(ValueError, match='2 group names or labels but 6 scores'):
        score_histogram_figure(scores, groups=['a', 'b'])


def test_frame_timeline_shades_the_fake_segments():
    times = np.arange(8) / 4.0
    fig = frame_timeline_figure([0.1] * 4 + [0.9] * 4, times, fake_segments=[[1.0, 1.75]])
    ax = fig.axes[0]
    line = [ln for ln in ax.get_lines() if ln.get_label() == 'fake probability'][0]
    assert np.allclose(line.get_xdata(), times)
    spans = [p for p in ax.patches if p.get_label() == 'annotated fake']
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert (x0, x1) == (1.0, 1.75)
    with pytest.raises(ValueError, match='3 times but 2 scores'):
        frame_timeline_figure([0.1, 0.2], [0, 1, 2])


def test_visualizer_is_registered_and_feeds_its_backends(tmp_path):
    vis = VISUALIZERS.build(dict(type='DeepfakeVisualizer', name='test_plots_vis',
                                 vis_backends=[dict(type='LocalVisBackend')],
                                 save_dir=str(tmp_path)))
    assert isinstance(vis, DeepfakeVisualizer)
    backend = vis.get_backend('LocalVisBackend')
    assert isinstance(backend, LocalVisBackend)
    labels, scores = _labels_scores()
    out = tmp_path / 'direct' / 'roc.pdf'
    image = vis.add_roc(labels, scores, step=3, out_file=str(out))
    assert out.read_bytes()[:4] == b'%PDF'
    saved = tmp_path / 'vis_data' / 'vis_image' / 'roc_3.png'
    assert np.array_equal(np.asarray(Image.open(saved).convert('RGB')), image)
    vis.add_score_histograms(scores, labels=labels, name='hist')
    vis.add_frame_timeline([0.2, 0.8], name='timeline')
    names = sorted(p.name for p in (tmp_path / 'vis_data' / 'vis_image').iterdir())
    assert names == ['hist_0.png', 'roc_3.png', 'timeline_0.png']


def test_library_never_selects_a_matplotlib_backend():
    code = ('import sys, matplotlib\n'
            'import holaframe.visualization as v, holaframe.engine, holaframe.evaluation\n'
            'v.figure_to_rgb(v.roc_figure([0, 1], [0.2, 0.7]))\n'
            'assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"\n'
            # rcParams['backend'] would resolve the backend itself: read the raw entry.
            'chosen = dict.__getitem__(matplotlib.rcParams, "backend")\n'
            'print(chosen is matplotlib.rcsetup._auto_backend_sentinel)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('True')
