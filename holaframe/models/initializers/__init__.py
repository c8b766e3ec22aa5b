"""Weight initialisers (registered in ``WEIGHT_INITIALIZERS``)."""

from .pretrained_part_init import PretrainedPartInit, summarise_keys

__all__ = ['PretrainedPartInit', 'summarise_keys']
