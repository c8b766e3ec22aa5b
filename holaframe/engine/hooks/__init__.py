"""Hooks."""

from .deepfake_visualization_hook import DeepfakeVisualizationHook
from .module_stats_hook import ModuleStatsHook
from .pseudo_label_hook import PseudoLabelHook

__all__: list = ['DeepfakeVisualizationHook', 'ModuleStatsHook', 'PseudoLabelHook']
