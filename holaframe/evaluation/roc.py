"""ROC curve image of video-level scores."""

import os
from typing import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def save_roc_curve(labels: Sequence[int],
                   scores: Sequence[float],
                   out_file: str,
                   title: str = 'ROC') -> str:
    """Plot the ROC curve of fake scores and save it as an image (matplotlib, no display).

    Args:
        labels (Sequence[int]): 1 = fake, 0 = real; both classes present.
        scores (Sequence[float]): Fake probabilities.
        out_file (str): Image path (``.png``, ``.pdf``, ...); parent folders are created.
        title (str): Plot title; the AUC is appended.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    fpr, tpr, _ = roc_curve(labels, scores, pos_label=1)
    auc = roc_auc_score(labels, scores)
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot(fpr, tpr, lw=2, label=f'AUC = {auc:.4f}')
    ax.plot([0, 1], [0, 1], ls='--', lw=1, color='grey', label='chance')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('false positive rate (real clips called fake)')
    ax.set_ylabel('true positive rate (fake clips caught)')
    ax.set_title(f'{title} (n={labels.size})')
    ax.legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)
    return out_file
