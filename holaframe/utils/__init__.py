"""Utilities."""

from .checkpoint import load_checkpoint_safely, unwrap_state_dict
from .collect_env import collect_env
from .components import COMPONENT_FAMILIES, component_family, list_components
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'collect_env', 'COMPONENT_FAMILIES', 'component_family',
    'list_components', 'load_checkpoint_safely', 'unwrap_state_dict'
]
