"""HiCMAE's audio-visual fusion encoder (stacked cross+self blocks, both directions)."""

from typing import Optional, Tuple

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import nn

from holaframe.models.layers import CSBlock
from holaframe.registry import MODELS


@MODELS.register_module()
class HiCMAEFusionEncoder(BaseModule):
    """Two stacks of :class:`~holaframe.models.layers.CSBlock` applied in lock-step.

    At depth i, ``blocks[i]`` updates the video stream with the audio stream as context and
    ``blocks_audio[i]`` updates the audio stream with the video stream as context; both read the
    two streams as they were **before** depth i. Afterwards ``norm`` (video) and ``norm_audio``
    (audio). Pre-training feeds visible tokens only; fine-tuning all tokens. Keys follow
    HiCMAE's ``encoder_fusion``: ``blocks.{i}.*``, ``blocks_audio.{i}.*``, ``norm.*``,
    ``norm_audio.*``.

    Args:
        embed_dim (int): Video token width. Defaults to 512.
        embed_dim_audio (int, optional): Audio token width; defaults to ``embed_dim``.
        depth (int): Fusion depth. Defaults to 2.
        num_heads (int): Heads of both self- and cross-attention. Defaults to 8.
        mlp_ratio (float): MLP ratio. Defaults to 4.
        qkv_bias (bool): q/v biases. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop_rate (float): Projection dropout (HiCMAE passes 0 here). Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, linear over depth. Defaults to 0.
        init_values (float): Layer scale (0 = off). Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing while training. Defaults to False.
        block_order (str): Attention order inside each block, ``'cross_first'`` (HiCMAE's and
            AVF-MAE++'s code and released weights; the default) or ``'self_first'`` (the order
            of the HOLA paper's text); see :class:`~holaframe.models.layers.CSBlock`.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 embed_dim: int = 512,
                 embed_dim_audio: Optional[int] = None,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 block_order: str = 'cross_first',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        embed_dim_audio = embed_dim if embed_dim_audio is None else embed_dim_audio
        self.embed_dim = embed_dim
        self.embed_dim_audio = embed_dim_audio
        self.depth = depth
        self.with_cp = with_cp
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
        common = dict(num_heads=num_heads, num_cross_heads=num_heads, mlp_ratio=mlp_ratio,
                      qkv_bias=qkv_bias, qk_scale=qk_scale, drop=drop_rate,
                      attn_drop=attn_drop_rate, init_values=init_values, norm_eps=norm_eps,
                      order=block_order)
        self.blocks = nn.ModuleList([
            CSBlock(embed_dim, embed_dim_audio, drop_path=dpr[i], **common) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.blocks_audio = nn.ModuleList([
            CSBlock(embed_dim_audio, embed_dim, drop_path=dpr[i], **common) for i in range(depth)
        ])
        self.norm_audio = nn.LayerNorm(embed_dim_audio, eps=norm_eps)

    def init_weights(self) -> None:
        """HiCMAE fusion init (xavier-uniform Linear, zero biases, unit norms), then ``init_cfg``
        if given (e.g. ``PretrainedPart``)."""
        if not self._is_init:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        if self.init_cfg is not None:
            super().init_weights()
        self._is_init = True

    def _run(self, blk: nn.Module, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        if self.with_cp and self.training and (x.requires_grad or ctx.requires_grad):
            return cp.checkpoint(blk, x, ctx, use_reentrant=False)
        return blk(x, ctx)

    def forward(self, video: torch.Tensor,
                audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fuse the two token streams.

        Args:
            video (torch.Tensor): Video tokens ``(B, Nv, embed_dim)``.
            audio (torch.Tensor): Audio tokens ``(B, Na, embed_dim_audio)``.

        Returns:
            tuple: ``(norm(video), norm_audio(audio))`` with the input shapes.
        """
        for blk, blk_audio in zip(self.blocks, self.blocks_audio):
            # Lock-step: both directions read the streams from before this depth.
            video, audio = self._run(blk, video, audio), self._run(blk_audio, audio, video)
        return self.norm(video), self.norm_audio(audio)
