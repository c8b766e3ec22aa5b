"""Metrics."""

__all__: list = []
