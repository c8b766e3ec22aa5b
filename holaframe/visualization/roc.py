"""ROC curve of video-level fake scores (the curve behind the AUC of Eq. 14)."""

from typing import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from .figure_io import new_figure, save_figure


def roc_figure(labels: Sequence[int], scores: Sequence[float], title: str = 'ROC'):
    """Plot the ROC curve of fake scores.

    Args:
        labels (Sequence[int]): 1 = fake, 0 = real; both classes present.
        scores (Sequence[float]): Fake probabilities.
        title (str): Plot title; the number of clips is appended, the AUC is in the legend.

    Returns:
        matplotlib.figure.Figure: The figure (Agg canvas, not registered with pyplot).

    Raises:
        ValueError: Fewer than two classes, or labels and scores of different lengths.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f'roc_figure: {labels.size} labels but {scores.size} scores')
    if np.unique(labels).size != 2:
        raise ValueError('roc_figure: a ROC curve needs real (0) and fake (1) clips, got labels '
                         f'{sorted(set(labels.tolist()))}')
    fpr, tpr, _ = roc_curve(labels, scores, pos_label=1)
    auc = roc_auc_score(labels, scores)
    fig = new_figure(4.5, 4.5)
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, lw=2, label=f'AUC = {auc:.4f}')
    ax.plot([0, 1], [0, 1], ls='--', lw=1, color='grey', label='chance')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('false positive rate (real clips called fake)')
    ax.set_ylabel('true positive rate (fake clips caught)')
    ax.set_title(f'{title} (n={labels.size})')
    ax.legend(loc='lower right')
    fig.tight_layout()
    return fig


def save_roc_curve(labels: Sequence[int],
                   scores: Sequence[float],
                   out_file: str,
                   title: str = 'ROC') -> str:
    """Plot the ROC curve of fake scores and save it as an image.

    Args:
        labels (Sequence[int]): 1 = fake, 0 = real; both classes present.
        scores (Sequence[float]): Fake probabilities.
        out_file (str): Image path (``.png``, ``.pdf``, ...); parent folders are created.
        title (str): Plot title.

    Returns:
        str: ``out_file``.
    """
    return save_figure(roc_figure(labels, scores, title), out_file)
