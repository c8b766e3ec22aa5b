"""Token maskers for masked autoencoding."""

from .base_masker import BaseMasker
from .random_masker import RandomMasker
from .running_cell_masker import RunningCellMasker
from .tube_masker import TubeMasker

__all__ = ['BaseMasker', 'RandomMasker', 'RunningCellMasker', 'TubeMasker']
