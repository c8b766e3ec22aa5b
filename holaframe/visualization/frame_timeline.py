"""Per-frame fake-score timeline of one clip, with its annotated fake segments."""

from typing import Optional, Sequence

import numpy as np

from .figure_io import new_figure


def frame_timeline_figure(frame_scores: Sequence[float],
                          times: Optional[Sequence[float]] = None,
                          fake_segments: Sequence[Sequence[float]] = (),
                          threshold: float = 0.5,
                          title: str = 'Frame scores'):
    """Plot the fake probability of each frame position against time.

    Args:
        frame_scores (Sequence[float]): Fake probability per position (e.g. the sigmoid of a
            frame-level head's logits), shape ``(L,)``.
        times (Sequence[float], optional): Time in seconds of each position; by default the
            position index is used as the x axis.
        fake_segments (Sequence[Sequence[float]]): Annotated ``[start, end]`` fake segments in
            seconds (the dataset's ``fake_segments``), shaded in red; only drawn with
            ``times``.
        threshold (float): Decision threshold, drawn as a horizontal line.
        title (str): Plot title (e.g. the clip's file).

    Returns:
        matplotlib.figure.Figure: The figure (Agg canvas, not registered with pyplot).

    Raises:
        ValueError: No scores, or ``times`` of a different length.
    """
    scores = np.asarray(frame_scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError('frame_timeline_figure: no frame scores to plot')
    if times is None:
        x = np.arange(scores.size, dtype=np.float64)
        xlabel = 'frame position'
    else:
        x = np.asarray(times, dtype=np.float64).reshape(-1)
        if x.size != scores.size:
            raise ValueError(f'frame_timeline_figure: {x.size} times but {scores.size} scores')
        xlabel = 'time (s)'
    fig = new_figure(7.0, 2.8)
    ax = fig.add_subplot()
    if times is not None:
        for k, (start, end) in enumerate(fake_segments):
            ax.axvspan(float(start), float(end), color='tab:red', alpha=0.2,
                       label='annotated fake' if k == 0 else None)
    ax.plot(x, scores, marker='.', lw=1.5, label='fake probability')
    ax.axhline(threshold, ls='--', lw=1, color='grey', label=f'threshold {threshold:g}')
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel('fake probability')
    ax.set_title(title, fontsize='small')
    ax.legend(loc='upper right', fontsize='x-small')
    fig.tight_layout()
    return fig
