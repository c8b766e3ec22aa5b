"""Whole-video localisation timeline: frame scores, found segments and annotated segments."""

from typing import Optional, Sequence

import numpy as np

from .figure_io import new_figure


def localization_timeline_figure(frame_scores: Sequence[float],
                                 times: Sequence[float],
                                 found_segments: Sequence[Sequence[float]] = (),
                                 fake_segments: Optional[Sequence[Sequence[float]]] = None,
                                 duration: Optional[float] = None,
                                 threshold: float = 0.5,
                                 max_found: int = 5,
                                 title: str = 'Localisation'):
    """Plot a video's per-frame fake probability, the segments found and, if known, the
    annotated ones.

    Found segments (``[confidence, start_s, end_s]`` rows, best first) are shaded in blue
    with an opacity growing with their confidence (the ``max_found`` best ones above
    ``threshold``, at least the best one) and labelled with the confidence; annotated
    ``fake_segments`` are drawn as a red bar under the curve.

    Args:
        frame_scores (Sequence[float]): Fake probability per frame ``(T,)``.
        times (Sequence[float]): Frame centre times in seconds ``(T,)``.
        found_segments (Sequence): Proposals ``[confidence, start_s, end_s]``.
        fake_segments (Sequence, optional): Annotated ``[start_s, end_s]`` segments; None when
            unknown (not drawn), ``[]`` for a real video.
        duration (float, optional): Video duration for the x axis; default the last time.
        threshold (float): Score threshold drawn as a dashed line.
        max_found (int): Most found segments shaded.
        title (str): Title (e.g. the file name).

    Returns:
        matplotlib.figure.Figure: The figure (Agg canvas, no pyplot).

    Raises:
        ValueError: No scores, or ``times`` of another length.
    """
    scores = np.asarray(frame_scores, np.float64).reshape(-1)
    x = np.asarray(times, np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError('localization_timeline_figure: no frame scores to plot')
    if x.size != scores.size:
        raise ValueError(f'localization_timeline_figure: {x.size} times but {scores.size} '
                         'scores')
    fig = new_figure(10.0, 3.0)
    ax = fig.add_subplot()
    found = [list(map(float, s)) for s in found_segments]
    shown = [s for s in found if s[0] >= threshold][:max_found] or found[:1]
    for k, (conf, start, end) in enumerate(shown):
        ax.axvspan(start, end, ymin=0.06, color='tab:blue', alpha=0.15 + 0.35 * conf,
                   label='found segment' if k == 0 else None)
        ax.text((start + end) / 2, 1.0, f'{conf:.2f}', ha='center', va='bottom',
                fontsize='x-small', color='tab:blue')
    if fake_segments is not None:
        for k, (start, end) in enumerate(fake_segments):
            ax.axvspan(float(start), float(end), ymax=0.05, color='tab:red', alpha=0.9,
                       label='annotated fake' if k == 0 else None)
    ax.plot(x, scores, lw=1.2, color='black', label='frame fake probability')
    ax.axhline(threshold, ls='--', lw=0.8, color='grey')
    ax.set_xlim(0.0, float(duration) if duration else float(x[-1]))
    ax.set_ylim(-0.02, 1.08)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('fake probability')
    ax.set_title(title, fontsize='small')
    ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize='x-small')
    fig.tight_layout()
    return fig
