"""Losses."""

from .hierarchical_contrastive_loss import HierarchicalContrastiveLoss
from .masked_reconstruction_loss import MaskedReconstructionLoss
from .reconstruction_targets import audio_reconstruction_targets, video_reconstruction_targets

__all__ = [
    'HierarchicalContrastiveLoss', 'MaskedReconstructionLoss', 'audio_reconstruction_targets',
    'video_reconstruction_targets'
]
