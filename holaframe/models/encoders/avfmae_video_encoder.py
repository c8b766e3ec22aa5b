"""AVF-MAE++ video encoder: tubelet embedding and local-global blocks."""

from typing import Optional, Sequence, Union

from holaframe.registry import MODELS

from .base_lg_encoder import LGEncoderMixin, resolve_lg_arch
from .video_vit_encoder import VideoViTEncoder


@MODELS.register_module()
class AVFMAEVideoEncoder(LGEncoderMixin, VideoViTEncoder):
    """Video encoder of AVF-MAE++ (CVPR 2025), weight-compatible with its ``encoder``.

    As :class:`VideoViTEncoder` (tubelet 2x16x16 embedding, fixed 1-D sin-cos table mapped
    across token grids through ``pos_grid``, final ``norm``), but the transformer is a stack of
    :class:`~holaframe.models.layers.LGBlock` s over regions of ``region_size`` tokens
    (AVF-MAE++: ``(2, 5, 10)`` on its 160 px grid ``(8, 10, 10)``, i.e. 4 x 2 x 1 regions of 100
    tokens), each with a learnable region token
    (:class:`~holaframe.models.layers.RegionTokens`). Attention cost per block falls from
    ``N^2`` to about ``N * s + n^2 + 2 * N * n`` for ``n`` regions of ``s`` tokens.

    At 224 px (grid ``(8, 14, 14)``) ``region_size=(2, 7, 14)`` keeps AVF-MAE++'s 4 x 2 x 1
    region layout, so its region tokens load one to one; another layout maps them
    (:func:`~holaframe.models.layers.map_region_tokens`).

    Pre-training (``mask`` given): the visible tokens of each time step are grouped into equal
    consecutive chunks, AVF-MAE++'s grouping (tube masking keeps the same tokens in every step).
    Outputs are in ascending token order in both modes (AVF-MAE++'s code returns the visible
    tokens region by region).

    Args:
        arch (str | dict): ``'nano'``, ``'base'`` (dim 512, depth 10, 8 heads), ``'large'``
            (640, 12, 10), ``'huge'`` (768, 15, 12) or a dict. Defaults to ``'base'``.
        img_size (int | tuple): Frame size. Defaults to 160 (AVF-MAE++'s pre-training).
        patch_size, in_channels, num_frames, tubelet_size: As in :class:`VideoViTEncoder`.
        region_size (Sequence[int]): Region size in tokens ``(t, h, w)``; must divide the token
            grid. Defaults to (2, 5, 10).
        first_attn_type, third_attn_type, attn_param_sharing_first_third,
            attn_param_sharing_all, no_second: :class:`LGBlock` options (AVF-MAE++'s
            ``lg_*`` arguments).
        out_tokens (str): ``'local'`` (every token, ``(B, N, C)``) or ``'region'`` (the region
            tokens, ``(B, n, C)``, what AVF-MAE++'s fine-tuning classifies). Defaults to
            ``'local'``.
        embed_dim, depth, num_heads, mlp_ratio (optional): Override the arch values.
        qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, norm_eps, with_cp,
            pos_grid, init_cfg: As in :class:`VideoViTEncoder` (no layer scale: AVF-MAE++ has
            none).
    """

    _file = 'holaframe/models/encoders/avfmae_video_encoder.py'

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 160,
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 3,
                 num_frames: int = 16,
                 tubelet_size: int = 2,
                 region_size: Sequence[int] = (2, 5, 10),
                 first_attn_type: str = 'self',
                 third_attn_type: str = 'cross',
                 attn_param_sharing_first_third: bool = False,
                 attn_param_sharing_all: bool = False,
                 no_second: bool = False,
                 out_tokens: str = 'local',
                 embed_dim: Optional[int] = None,
                 depth: Optional[int] = None,
                 num_heads: Optional[int] = None,
                 mlp_ratio: Optional[float] = None,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 pos_grid: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        settings = resolve_lg_arch(arch, self._file, embed_dim=embed_dim, depth=depth,
                                   num_heads=num_heads, mlp_ratio=mlp_ratio)
        # The base class builds embedding, positions and norm; the blocks are LGBlocks.
        super().__init__(
            arch=dict(settings, depth=0), img_size=img_size, patch_size=patch_size,
            in_channels=in_channels, num_frames=num_frames, tubelet_size=tubelet_size,
            qkv_bias=qkv_bias, qk_scale=qk_scale, drop_rate=drop_rate, norm_eps=norm_eps,
            with_cp=with_cp, pos_grid=pos_grid, init_cfg=init_cfg)
        self._build_lg(
            settings, region_size, True,
            dict(first_attn_type=first_attn_type, third_attn_type=third_attn_type,
                 attn_param_sharing_first_third=attn_param_sharing_first_third,
                 attn_param_sharing_all=attn_param_sharing_all, no_second=no_second),
            qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, norm_eps, out_tokens)
