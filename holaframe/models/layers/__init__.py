"""Building blocks shared by models (attention, transformer blocks, positions)."""

from .attention import Attention
from .audio_patch_embed import AudioPatchEmbed
from .block import Block
from .cross_attention import CrossAttention
from .cs_block import CSBlock
from .drop_path import DropPath, drop_path
from .gated_cross_modal_block import GatedCrossModalBlock
from .iterative_refinement import IterativeRefinement
from .lg_block import LGBlock
from .mfcc_token_embed import MFCCTokenEmbed
from .mlp import Mlp
from .pos_embed import get_sinusoid_encoding_table, map_sinusoid_table, resample_grid_table
from .region_tokens import RegionTokens, map_region_tokens
from .video_patch_embed import VideoPatchEmbed

__all__ = [
    'Attention', 'CrossAttention', 'Block', 'CSBlock', 'Mlp', 'DropPath', 'drop_path',
    'VideoPatchEmbed', 'AudioPatchEmbed', 'MFCCTokenEmbed', 'get_sinusoid_encoding_table',
    'map_sinusoid_table', 'resample_grid_table', 'LGBlock', 'RegionTokens', 'map_region_tokens',
    'GatedCrossModalBlock', 'IterativeRefinement'
]
