"""A visualizer that records ROC curves, score histograms and frame-score timelines."""

from typing import Optional, Sequence

import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from holaframe.registry import VISUALIZERS

from .figure_io import figure_to_rgb, save_figure
from .frame_timeline import frame_timeline_figure
from .roc import roc_figure
from .score_histograms import score_histogram_figure


@VISUALIZERS.register_module()
class DeepfakeVisualizer(Visualizer):
    """MMEngine ``Visualizer`` with the plots of a real/fake detector.

    Each ``add_*`` method draws one figure, sends it as an RGB image to every vis backend of the
    visualizer (``LocalVisBackend`` writes ``vis_data/vis_image/<name>_<step>.png``,
    ``TensorboardVisBackend`` an image summary) and, with ``out_file``, also saves the figure
    itself (any matplotlib format). Nothing selects a matplotlib backend: figures are rendered
    on the Agg canvas directly.

    Use it as the config's visualizer::

        visualizer = dict(type='DeepfakeVisualizer', vis_backends=[dict(type='LocalVisBackend')])

    ``DeepfakeVisualizationHook`` (``tools/test.py --show-dir DIR``) calls it after testing.

    Args:
        name (str): Instance name.
        vis_backends (list, optional): Vis backend configs or instances.
        save_dir (str, optional): Root folder of the vis backends.
        **kwargs: Other :class:`mmengine.visualization.Visualizer` arguments.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(name=name, vis_backends=vis_backends, save_dir=save_dir, **kwargs)

    @master_only
    def add_figure(self, name: str, fig, step: int = 0,
                   out_file: Optional[str] = None) -> np.ndarray:
        """Send a matplotlib figure to the vis backends (and to ``out_file``).

        Args:
            name (str): Image identifier in the backends.
            fig (matplotlib.figure.Figure): The figure.
            step (int): Global step (epoch or iteration) of the image.
            out_file (str, optional): Also save the figure here.

        Returns:
            np.ndarray: The rendered ``(H, W, 3)`` uint8 RGB image.
        """
        image = figure_to_rgb(fig)
        self.add_image(name, image, step)
        if out_file:
            save_figure(fig, out_file)
        return image

    def add_roc(self,
                labels: Sequence[int],
                scores: Sequence[float],
                name: str = 'roc',
                step: int = 0,
                out_file: Optional[str] = None,
                title: str = 'ROC') -> np.ndarray:
        """Record the ROC curve of video-level scores (see :func:`roc_figure`)."""
        return self.add_figure(name, roc_figure(labels, scores, title), step, out_file)

    def add_score_histograms(self,
                             scores: Sequence[float],
                             groups: Optional[Sequence[str]] = None,
                             labels: Optional[Sequence[int]] = None,
                             name: str = 'score_histograms',
                             step: int = 0,
                             out_file: Optional[str] = None,
                             threshold: float = 0.5,
                             title: str = 'Scores') -> np.ndarray:
        """Record score histograms per group (see :func:`score_histogram_figure`)."""
        fig = score_histogram_figure(scores, groups, labels, threshold=threshold, title=title)
        return self.add_figure(name, fig, step, out_file)

    def add_frame_timeline(self,
                           frame_scores: Sequence[float],
                           times: Optional[Sequence[float]] = None,
                           fake_segments: Sequence[Sequence[float]] = (),
                           name: str = 'frame_timeline',
                           step: int = 0,
                           out_file: Optional[str] = None,
                           threshold: float = 0.5,
                           title: str = 'Frame scores') -> np.ndarray:
        """Record one clip's per-frame score timeline (see :func:`frame_timeline_figure`)."""
        fig = frame_timeline_figure(frame_scores, times, fake_segments, threshold, title)
        return self.add_figure(name, fig, step, out_file)
