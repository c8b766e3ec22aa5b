"""HiCMAE-compatible video transformer encoder."""

from typing import Optional, Sequence, Union

from holaframe.models.layers import VideoPatchEmbed
from holaframe.registry import MODELS

from .base_vit_encoder import BaseViTEncoder, resolve_arch


@MODELS.register_module()
class VideoViTEncoder(BaseViTEncoder):
    """Video ViT with tubelet (cube) embedding, weight-compatible with HiCMAE's ``encoder``.

    Input ``(B, in_channels, num_frames, H, W)`` (normalised frames, HiCMAE order) ->
    :class:`~holaframe.models.layers.VideoPatchEmbed` (tubelet 2x16x16 by default) -> + fixed
    1-D sin-cos table -> optional removal of masked tokens -> ``depth`` HiCMAE blocks ->
    ``norm``. See :meth:`BaseViTEncoder.forward` for ``mask`` and ``out_indices``.

    Attributes: ``embed_dim``, ``depth``, ``num_heads``, ``num_patches`` (N),
    ``grid_size`` ``(T / tubelet, H / p, W / p)`` (token index ``t*h*w + row*w + col``),
    ``pos_embed`` buffer ``(1, N, C)``, ``pos_grid`` (the grid the positions were learned on).

    Args:
        arch (str | dict): ``'nano'``, ``'tiny'``, ``'small'`` or ``'base'`` (see
            :data:`ARCH_SETTINGS`; ``base`` = HiCMAE-B: dim 512, depth 10, 8 heads, mlp 4), or
            a dict. Defaults to ``'base'``.
        img_size (int | tuple): Frame size. Defaults to 224 (HiCMAE's released models: 160).
        patch_size (int | tuple): Spatial patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        num_frames (int): Frames per clip. Defaults to 16.
        tubelet_size (int): Frames per tubelet. Defaults to 2.
        embed_dim, depth, num_heads, mlp_ratio (optional): Override the arch values.
        qkv_bias (bool): q/v biases. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop_rate (float): Dropout after projections and positions. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, linearly increasing over blocks.
            Defaults to 0.
        init_values (float): Layer scale init (0 = off, HiCMAE). Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing of each block while training. Defaults to False.
        pos_grid (Sequence[int], optional): Token grid the positions were learned on when it
            differs from this one and the checkpoint does not record it (see
            :class:`BaseViTEncoder`). Defaults to None (this encoder's grid, or the checkpoint's).
        init_cfg (dict, optional): MMEngine init config, e.g.
            ``dict(type='Pretrained', checkpoint='hicmae_b.pth', prefix='video_encoder.')``.
    """

    _file = 'holaframe/models/encoders/video_vit_encoder.py'

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 3,
                 num_frames: int = 16,
                 tubelet_size: int = 2,
                 embed_dim: Optional[int] = None,
                 depth: Optional[int] = None,
                 num_heads: Optional[int] = None,
                 mlp_ratio: Optional[float] = None,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 pos_grid: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        settings = resolve_arch(arch, self._file, embed_dim=embed_dim, depth=depth,
                                num_heads=num_heads, mlp_ratio=mlp_ratio)
        self.patch_embed = VideoPatchEmbed(
            img_size=img_size, patch_size=patch_size, in_channels=in_channels,
            embed_dim=int(settings['embed_dim']), num_frames=num_frames,
            tubelet_size=tubelet_size)
        self.num_frames = int(num_frames)
        self.tubelet_size = int(tubelet_size)
        self._build_transformer(settings, qkv_bias, qk_scale, drop_rate, attn_drop_rate,
                                drop_path_rate, init_values, norm_eps, with_cp, pos_grid)
