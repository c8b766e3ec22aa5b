"""Losses."""

__all__: list = []
