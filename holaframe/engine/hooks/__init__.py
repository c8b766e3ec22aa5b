"""Hooks."""

__all__: list = []
