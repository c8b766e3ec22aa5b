"""Heatmap of a robustness grid: one row per perturbation, one column per level (and the mean)."""

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .figure_io import new_figure

__all__ = ['robustness_heatmap_figure']


def robustness_heatmap_figure(rows: Sequence[str],
                              columns: Sequence[str],
                              panels: Dict[str, np.ndarray],
                              clean: Optional[Dict[str, float]] = None,
                              ranges: Optional[Dict[str, Tuple[float, float]]] = None,
                              title: str = 'Robustness'):
    """Annotated heatmaps of metrics over (perturbation, level) cells, one panel per metric.

    Missing cells (NaN: not evaluated, or no metric) are drawn grey and annotated ``-``.

    Args:
        rows (Sequence[str]): Row labels (perturbations).
        columns (Sequence[str]): Column labels (levels, then e.g. ``mean``).
        panels (dict[str, ndarray]): Metric label -> ``(len(rows), len(columns))`` values.
        clean (dict[str, float], optional): Metric label -> value on the clean set, shown in
            the panel's title.
        ranges (dict[str, tuple], optional): Metric label -> colour range ``(low, high)``;
            default the range of the panel's values.
        title (str): Figure title.

    Returns:
        matplotlib.figure.Figure: The figure (Agg canvas, not registered with pyplot).

    Raises:
        ValueError: No panel, or a panel whose shape does not match the labels.
    """
    if not panels:
        raise ValueError('robustness_heatmap_figure: no metric to plot')
    shape = (len(rows), len(columns))
    for label, values in panels.items():
        if np.shape(values) != shape:
            raise ValueError(f'robustness_heatmap_figure: panel {label!r} has shape '
                             f'{np.shape(values)}, expected {shape} (rows x columns)')
    import matplotlib

    width = 1.2 + 0.75 * len(columns)
    height = 0.9 + 0.38 * len(rows)
    fig = new_figure(width * len(panels), height + 0.4)
    cmap = matplotlib.colormaps['RdYlGn'].with_extremes(bad='0.85')
    for k, (label, values) in enumerate(panels.items()):
        ax = fig.add_subplot(1, len(panels), k + 1)
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        low, high = (ranges or {}).get(label, (finite.min(), finite.max()) if finite.size else
                                       (0.0, 1.0))
        if high <= low:
            high = low + 1e-6
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high,
                          aspect='auto')
        for i in range(shape[0]):
            for j in range(shape[1]):
                v = values[i, j]
                text = '-' if not np.isfinite(v) else (f'{v:.3f}' if high <= 1.0 + 1e-9
                                                       else f'{v:.1f}')
                ax.text(j, i, text, ha='center', va='center', fontsize=7)
        ax.set_xticks(range(shape[1]), [str(c) for c in columns])
        ax.set_yticks(range(shape[0]), [str(r) for r in rows] if k == 0 else [''] * shape[0])
        ax.set_xlabel('level')
        head = label if not clean or label not in clean or clean[label] is None else (
            f'{label} (clean {clean[label]:.3f})' if high <= 1.0 + 1e-9 else
            f'{label} (clean {clean[label]:.1f})')
        ax.set_title(head, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
