"""Utilities."""

from .checkpoint import load_checkpoint_safely, unwrap_state_dict
from .collect_env import collect_env
from .components import COMPONENT_FAMILIES, component_family, list_components
from .launch import build_runner, default_dist_backend, load_config
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'collect_env', 'build_runner', 'default_dist_backend', 'load_config',
    'COMPONENT_FAMILIES', 'component_family', 'list_components', 'load_checkpoint_safely',
    'unwrap_state_dict'
]
