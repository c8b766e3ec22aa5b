"""Refiners applied after fusion (e.g. the pyramid-like refiner, Sec. 3.2.5)."""

__all__: list = []
