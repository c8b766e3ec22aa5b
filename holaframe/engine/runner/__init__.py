"""Runner-side extensions (loops)."""

from .dist_env import init_dist_env

__all__: list = ['init_dist_env']
