"""Histograms of video-level fake scores, one per manipulation type (or per label)."""

from typing import Optional, Sequence

import numpy as np

from .figure_io import new_figure


def score_histogram_figure(scores: Sequence[float],
                           groups: Optional[Sequence[str]] = None,
                           labels: Optional[Sequence[int]] = None,
                           threshold: float = 0.5,
                           bins: int = 20,
                           title: str = 'Scores'):
    """Overlaid histograms of fake probabilities, one outline per group.

    With ``groups`` (e.g. the ``modify_type`` of each clip: ``real``, ``visual_modified``,
    ``audio_modified``, ``both_modified``) each distinct value gets its own histogram, so a
    manipulation type the model misses shows up as mass left of the threshold. Without
    ``groups`` the clips are grouped by ``labels`` (``real`` / ``fake``), or drawn as one
    histogram when neither is given.

    Args:
        scores (Sequence[float]): Fake probabilities in [0, 1].
        groups (Sequence[str], optional): Group name per clip.
        labels (Sequence[int], optional): 1 = fake, 0 = real, -1 = unlabeled (used without
            ``groups``).
        threshold (float): Decision threshold, drawn as a vertical line.
        bins (int): Number of equal bins over [0, 1].
        title (str): Plot title.

    Returns:
        matplotlib.figure.Figure: The figure (Agg canvas, not registered with pyplot).

    Raises:
        ValueError: ``groups`` or ``labels`` of a different length than ``scores``, or no
            scores.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError('score_histogram_figure: no scores to plot')
    if groups is not None:
        names = np.asarray([str(g) for g in groups], dtype=object)
    elif labels is not None:
        names = np.asarray(
            [{0: 'real', 1: 'fake'}.get(int(v), 'unlabeled') for v in labels], dtype=object)
    else:
        names = np.full(scores.size, 'all', dtype=object)
    if names.size != scores.size:
        raise ValueError(f'score_histogram_figure: {names.size} group names or labels but '
                         f'{scores.size} scores')
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig = new_figure(5.5, 4.0)
    ax = fig.add_subplot()
    for name in sorted(set(names.tolist())):
        member = scores[names == name]
        ax.hist(np.clip(member, 0.0, 1.0), bins=edges, histtype='step', lw=2,
                label=f'{name} (n={member.size}, mean {member.mean():.2f})')
    ax.axvline(threshold, ls='--', lw=1, color='grey', label=f'threshold {threshold:g}')
    ax.set_xlim(0, 1)
    ax.set_xlabel('fake probability')
    ax.set_ylabel('clips')
    ax.set_title(f'{title} (n={scores.size})')
    ax.legend(loc='upper center', fontsize='small')
    fig.tight_layout()
    return fig
