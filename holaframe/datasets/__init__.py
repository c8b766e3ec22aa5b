"""Datasets, samplers and transforms."""

from .transforms import *  # noqa: F401,F403

__all__: list = []
