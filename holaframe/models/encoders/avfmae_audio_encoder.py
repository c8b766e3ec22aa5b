"""AVF-MAE++ audio encoder: fbank patches (or MFCC segments) and local-global blocks."""

from typing import Optional, Sequence, Union

from holaframe.registry import MODELS

from .audio_vit_encoder import AudioViTEncoder
from .base_lg_encoder import LGEncoderMixin, resolve_lg_arch


@MODELS.register_module()
class AVFMAEAudioEncoder(LGEncoderMixin, AudioViTEncoder):
    """Audio encoder of AVF-MAE++ (CVPR 2025), weight-compatible with its ``encoder_audio``.

    As :class:`AudioViTEncoder` (``'fbank'``: 16x16 patches of a 256 x 128 fbank, grid
    ``(16, 8)``; ``'mfcc'``: one token per MFCC segment, grid ``(T,)``), with
    :class:`~holaframe.models.layers.LGBlock` s over regions of ``region_size`` tokens and one
    learnable region token each (AVF-MAE++: ``(4, 4)`` on the fbank grid, 4 x 2 regions of 16
    patches). With MFCC input the regions are runs of segments (default 2, i.e. 8 regions for
    16 segments); fbank-trained region tokens are mapped onto them
    (:func:`~holaframe.models.layers.map_region_tokens`) and the fbank patch embedding is not
    transferable (as for :class:`AudioViTEncoder`).

    Pre-training (``mask`` given): the visible tokens, in ascending order, are split into equal
    consecutive chunks, one per region (AVF-MAE++'s grouping; with the fbank grid and random
    masking a chunk is a run of visible patches rather than a 4 x 4 square). Its masks keep
    ``n * k`` tokens (AVF-MAE++: ratio 0.8125 = 24 of 128 tokens, 3 per region).

    Args:
        arch (str | dict): ``'nano'``, ``'base'``, ``'large'``, ``'huge'`` or a dict (see
            :data:`AVFMAE_ARCH_SETTINGS`). Defaults to ``'base'``.
        input_type (str): ``'fbank'`` or ``'mfcc'``. Defaults to ``'fbank'``.
        spec_size, patch_size, in_channels, num_segments, num_coeffs: As in
            :class:`AudioViTEncoder`.
        region_size (Sequence[int], optional): Region size in tokens; defaults to ``(4, 4)``
            for fbank and ``(2,)`` for MFCC.
        first_attn_type, third_attn_type, attn_param_sharing_first_third,
            attn_param_sharing_all, no_second, out_tokens: As in :class:`AVFMAEVideoEncoder`.
        embed_dim, depth, num_heads, mlp_ratio (optional): Override the arch values.
        qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, norm_eps, with_cp,
            pos_grid, init_cfg: As in :class:`AudioViTEncoder`.
    """

    _file = 'holaframe/models/encoders/avfmae_audio_encoder.py'

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 input_type: str = 'fbank',
                 spec_size: Union[int, Sequence[int]] = (256, 128),
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 1,
                 num_segments: int = 16,
                 num_coeffs: int = 32,
                 region_size: Optional[Sequence[int]] = None,
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
        super().__init__(
            arch=dict(settings, depth=0), input_type=input_type, spec_size=spec_size,
            patch_size=patch_size, in_channels=in_channels, num_segments=num_segments,
            num_coeffs=num_coeffs, qkv_bias=qkv_bias, qk_scale=qk_scale, drop_rate=drop_rate,
            norm_eps=norm_eps, with_cp=with_cp, pos_grid=pos_grid, init_cfg=init_cfg)
        if region_size is None:
            region_size = (4, 4) if input_type == 'fbank' else (2, )
        self._build_lg(
            settings, region_size, False,
            dict(first_attn_type=first_attn_type, third_attn_type=third_attn_type,
                 attn_param_sharing_first_third=attn_param_sharing_first_third,
                 attn_param_sharing_all=attn_param_sharing_all, no_second=no_second),
            qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, norm_eps, out_tokens)
