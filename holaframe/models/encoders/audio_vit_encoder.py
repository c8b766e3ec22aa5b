"""HiCMAE-compatible audio transformer encoder (fbank patches or MFCC segment tokens)."""

from typing import Optional, Sequence, Union

from holaframe.models.layers import AudioPatchEmbed, MFCCTokenEmbed
from holaframe.registry import MODELS

from .base_vit_encoder import BaseViTEncoder, resolve_arch


@MODELS.register_module()
class AudioViTEncoder(BaseViTEncoder):
    """Audio ViT, weight-compatible with HiCMAE's ``encoder_audio``.

    Two input embeddings (``input_type``):

    * ``'fbank'`` (HiCMAE): input ``(B, 1, 256, 128)`` (or ``(B, 256, 128)``) normalised
      log-mel fbank -> :class:`~holaframe.models.layers.AudioPatchEmbed` (16x16 patches,
      time-major tokens: ``grid_size = (16, 8)``, 128 tokens).
    * ``'mfcc'`` (the paper's fine-tuning input, Sec. 3.2.1): input ``(B, T, 32)`` = T segments
      aligned with the video frames x 32 MFCC coefficients ->
      :class:`~holaframe.models.layers.MFCCTokenEmbed` (one token per segment,
      ``grid_size = (T,)``). The transformer blocks and ``norm`` still load from a HiCMAE
      checkpoint; the fbank ``patch_embed`` tensors are skipped with a warning.

    Then + fixed sin-cos table, optional removal of masked tokens, ``depth`` HiCMAE blocks,
    ``norm``; see :meth:`BaseViTEncoder.forward` for ``mask`` and ``out_indices``.

    Args:
        arch (str | dict): ``'nano'``, ``'tiny'``, ``'small'``, ``'base'`` or a dict.
            Defaults to ``'base'``.
        input_type (str): ``'fbank'`` or ``'mfcc'``. Defaults to ``'fbank'``.
        spec_size (int | tuple): fbank (time frames, mel bins). Defaults to (256, 128).
        patch_size (int | tuple): fbank patch size. Defaults to 16.
        in_channels (int): fbank channels. Defaults to 1.
        num_segments (int): MFCC segments T. Defaults to 16.
        num_coeffs (int): MFCC coefficients per segment. Defaults to 32.
        embed_dim, depth, num_heads, mlp_ratio (optional): Override the arch values.
        qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, init_values, norm_eps,
            with_cp, pos_grid, init_cfg: As in :class:`VideoViTEncoder` (fbank grid:
            ``(time, frequency)``; MFCC grid: ``(T,)``, placed at the centre frequency of an
            fbank ``pos_grid``).
    """

    _file = 'holaframe/models/encoders/audio_vit_encoder.py'

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 input_type: str = 'fbank',
                 spec_size: Union[int, Sequence[int]] = (256, 128),
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 1,
                 num_segments: int = 16,
                 num_coeffs: int = 32,
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
        dim = int(settings['embed_dim'])
        if input_type == 'fbank':
            self.patch_embed = AudioPatchEmbed(
                spec_size=spec_size, patch_size=patch_size, in_channels=in_channels,
                embed_dim=dim)
        elif input_type == 'mfcc':
            self.patch_embed = MFCCTokenEmbed(
                num_segments=num_segments, num_coeffs=num_coeffs, embed_dim=dim)
        else:
            raise ValueError(f'{self._file}: input_type must be "fbank" or "mfcc", got '
                             f'{input_type!r}.')
        self.input_type = input_type
        self._build_transformer(settings, qkv_bias, qk_scale, drop_rate, attn_drop_rate,
                                drop_path_rate, init_values, norm_eps, with_cp, pos_grid)
