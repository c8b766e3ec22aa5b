"""Hooks."""

from .deepfake_visualization_hook import DeepfakeVisualizationHook
from .pseudo_label_hook import PseudoLabelHook

__all__: list = ['DeepfakeVisualizationHook', 'PseudoLabelHook']
