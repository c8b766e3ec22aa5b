"""Runner-side extensions: process-group start-up, config loading and runner construction."""

from .dist_env import close_dist_env, default_dist_backend, init_dist_env
from .hola_flexible_runner import HolaFlexibleRunner
from .launch import build_runner, load_config

__all__: list = [
    'init_dist_env', 'close_dist_env', 'default_dist_backend', 'build_runner', 'load_config',
    'HolaFlexibleRunner'
]
