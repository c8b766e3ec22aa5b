"""Rendering matplotlib figures without pyplot: to an RGB array or to a file.

Library code builds :class:`matplotlib.figure.Figure` objects directly and renders them with the
Agg canvas, so importing or calling holaframe never selects a matplotlib backend or touches
pyplot's global figure list; scripts that want to show figures choose the backend themselves.
"""

import os

import numpy as np


def new_figure(width: float = 5.0, height: float = 4.0, dpi: int = 100):
    """A :class:`~matplotlib.figure.Figure` attached to an Agg canvas (no pyplot, no backend).

    Args:
        width (float): Width in inches.
        height (float): Height in inches.
        dpi (int): Dots per inch.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    """Render ``fig`` and return its pixels as a ``(H, W, 3)`` uint8 RGB array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_figure(fig, out_file: str) -> str:
    """Save ``fig`` to ``out_file`` (format from the extension, written atomically); parent
    folders are created."""
    from holaframe.utils.atomic_io import atomic_open

    fmt = os.path.splitext(out_file)[1].lstrip('.').lower() or None
    with atomic_open(out_file, 'wb') as f:
        fig.savefig(f, format=fmt)
    return out_file
