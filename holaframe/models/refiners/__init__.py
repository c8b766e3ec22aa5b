"""Refiners applied after fusion (e.g. the pyramid-like refiner, Sec. 3.2.5)."""

from .pyramid_refiner import PyramidRefiner

__all__: list = ['PyramidRefiner']
