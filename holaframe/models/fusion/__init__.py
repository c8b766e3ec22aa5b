"""Fusion blocks (cross-modal interaction, contextual fusion, HiCMAE and AVF-MAE++ fusion
encoders)."""

from .avfmae_fusion_encoder import AVFMAEFusionEncoder
from .hicmae_fusion_encoder import HiCMAEFusionEncoder
from .iterative_cross_modal_interaction import IterativeCrossModalInteraction
from .local_global_contextual_fusion import LocalGlobalContextualFusion

__all__: list = [
    'HiCMAEFusionEncoder', 'IterativeCrossModalInteraction', 'LocalGlobalContextualFusion',
    'AVFMAEFusionEncoder'
]
