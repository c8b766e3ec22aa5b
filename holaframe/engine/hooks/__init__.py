"""Hooks."""

from .deepfake_visualization_hook import DeepfakeVisualizationHook
from .module_stats_hook import ModuleStatsHook
from .pseudo_label_hook import PseudoLabelHook
from .train_state_hook import TrainStateHook

__all__: list = [
    'DeepfakeVisualizationHook', 'ModuleStatsHook', 'PseudoLabelHook', 'TrainStateHook'
]
