"""AVF-MAE++'s audio-visual fusion encoder (gated fusion layers, iterative refinement)."""

from typing import Optional, Tuple

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import nn

from holaframe.models.layers import (
    Attention,
    CrossAttention,
    DropPath,
    GatedCrossModalBlock,
    IterativeRefinement,
    Mlp,
)
from holaframe.registry import MODELS


@MODELS.register_module()
class AVFMAEFusionEncoder(BaseModule):
    """Fusion encoder of AVF-MAE++ (its ``encoder_fusion``), weight-compatible with it.

    1. ``depth`` :class:`~holaframe.models.layers.GatedCrossModalBlock` s update the video and
       audio streams (self- and cross-attention branches, HOLA Eq. (1)-(4), mixed by gates).
       After each, :class:`~holaframe.models.layers.IterativeRefinement` (``refinement``)
       updates a joint context ``x`` from both streams; ``x`` starts as the concatenated mean
       video and mean audio token ``(B, 1, 2C)`` unless given (AVF-MAE++'s fine-tuning passes
       the layer-weighted region tokens of both encoders, ``(B, n, 2C)``).
    2. Per token, the outputs of the ``depth`` layers form a short sequence: one self-attention
       over it (``vadaptiveinteraction`` after ``norm``; audio ``aadaptiveinteraction`` after
       ``norm_audio``) and an MLP (``mlp_att_v`` after ``norm_att_v``), then a sigmoid score per
       layer (``vselectfusion``) and the score-weighted sum over layers.
    3. Both streams read the context: ``v += cross_attn(cross_norm_1(v), cross_norm_2(x))``,
       ``a += cross_attn(cross_norm_3(a), cross_norm_2(x))`` (one shared ``cross_attn``), then
       an MLP each (``mlp_att_video_IR`` after ``norm_att_v_IR``, ``mlp_att_audio_IR`` after
       ``norm_att_a_IR``).

    Steps 2-3 use stochastic depth at half ``drop_path_rate``; the layers of step 1 a linear
    ramp up to it (AVF-MAE++'s schedule). Key names are AVF-MAE++'s, except
    ``Iterative_Refinement_Module`` -> ``refinement`` (see
    ``tools/model_converters/avfmae2holaframe.py``). Both streams have width ``embed_dim``.

    Args:
        embed_dim (int): Width of both streams. Defaults to 512.
        depth (int): Number of gated fusion layers. Defaults to 2.
        num_heads (int): Heads of every attention. Defaults to 8.
        mlp_ratio (float): MLP ratio. Defaults to 4.
        qkv_bias (bool): q/v biases. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop_rate (float): Projection dropout. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth (see above). Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing of the fusion layers while training.
            Defaults to False.
        init_cfg (dict, optional): MMEngine init config, e.g. ``PretrainedPart``.
    """

    _file = 'holaframe/models/fusion/avfmae_fusion_encoder.py'

    def __init__(self,
                 embed_dim: int = 512,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth <= 0:
            raise ValueError(f'{self._file}: depth must be positive, got {depth}.')
        self.embed_dim = embed_dim
        self.depth = depth
        self.with_cp = with_cp
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
        attn_kw = dict(num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                       attn_drop=attn_drop_rate, proj_drop=drop_rate)
        hidden = int(embed_dim * mlp_ratio)

        def norm() -> nn.LayerNorm:
            return nn.LayerNorm(embed_dim, eps=norm_eps)

        self.blocks = nn.ModuleList([
            GatedCrossModalBlock(embed_dim, num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
                                 qk_scale=qk_scale, drop=drop_rate, attn_drop=attn_drop_rate,
                                 drop_path=dpr[i], norm_eps=norm_eps) for i in range(depth)
        ])
        self.norm, self.norm_audio = norm(), norm()
        self.refinement = IterativeRefinement(embed_dim, concat_dim=2 * embed_dim)
        self.cross_attn = CrossAttention(embed_dim, context_dim=embed_dim, **attn_kw)
        self.cross_norm_1, self.cross_norm_2, self.cross_norm_3 = norm(), norm(), norm()
        self.vadaptiveinteraction = Attention(embed_dim, **attn_kw)
        self.aadaptiveinteraction = Attention(embed_dim, **attn_kw)
        self.vselectfusion = nn.Linear(embed_dim, 1)
        self.aselectfusion = nn.Linear(embed_dim, 1)
        self.norm_att_v, self.mlp_att_v = norm(), Mlp(embed_dim, hidden, drop=drop_rate)
        self.norm_att_a, self.mlp_att_a = norm(), Mlp(embed_dim, hidden, drop=drop_rate)
        self.norm_att_v_IR, self.norm_att_a_IR = norm(), norm()
        self.mlp_att_video_IR = Mlp(embed_dim, hidden, drop=drop_rate)
        self.mlp_att_audio_IR = Mlp(embed_dim, hidden, drop=drop_rate)
        half = drop_path_rate * 0.5
        self.drop_path = DropPath(half) if half > 0. else nn.Identity()

    def init_weights(self) -> None:
        """AVF-MAE++ fusion init (xavier-uniform Linear, zero biases, unit norms; PyTorch's
        defaults for the refinement's Conv1d, BatchNorm and PReLU), then ``init_cfg``."""
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

    def _layer_mix(self, stages: torch.Tensor, attn: nn.Module, norm: nn.Module,
                   mlp: nn.Module, norm_mlp: nn.Module, score: nn.Module) -> torch.Tensor:
        """Step 2: ``stages`` ``(B, N, depth, C)`` -> score-weighted sum ``(B, N, C)``."""
        B, N, L, C = stages.shape
        h = stages.reshape(B * N, L, C)
        h = h + self.drop_path(attn(norm(h)))
        h = h + self.drop_path(mlp(norm_mlp(h)))
        weight = torch.sigmoid(score(h))  # (B * N, depth, 1)
        return (h * weight).sum(dim=1).reshape(B, N, C)

    def forward(self, video: torch.Tensor, audio: torch.Tensor,
                overall: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fuse the two token streams.

        Args:
            video (torch.Tensor): ``(B, Nv, embed_dim)``.
            audio (torch.Tensor): ``(B, Na, embed_dim)``.
            overall (torch.Tensor, optional): Initial joint context ``(B, M, 2 * embed_dim)``;
                defaults to ``[mean(video), mean(audio)]`` ``(B, 1, 2 * embed_dim)``.

        Returns:
            tuple: fused ``(video, audio)`` with the input shapes.
        """
        if video.shape[0] != audio.shape[0] or video.shape[-1] != self.embed_dim \
                or audio.shape[-1] != self.embed_dim:
            raise ValueError(f'{self._file}: video {tuple(video.shape)} and audio '
                             f'{tuple(audio.shape)} must share the batch size and have width '
                             f'{self.embed_dim}.')
        if overall is None:
            overall = torch.cat([video.mean(1, keepdim=True), audio.mean(1, keepdim=True)], -1)
        video_stages, audio_stages = [], []
        for blk in self.blocks:
            if self.with_cp and self.training and (video.requires_grad or audio.requires_grad):
                video, audio = cp.checkpoint(blk, video, audio, use_reentrant=False)
            else:
                video, audio = blk(video, audio)
            overall = self.refinement(video, audio, overall)
            video_stages.append(video)
            audio_stages.append(audio)
        v = self._layer_mix(torch.stack(video_stages, 2), self.vadaptiveinteraction, self.norm,
                            self.mlp_att_v, self.norm_att_v, self.vselectfusion)
        a = self._layer_mix(torch.stack(audio_stages, 2), self.aadaptiveinteraction,
                            self.norm_audio, self.mlp_att_a, self.norm_att_a, self.aselectfusion)
        context = self.cross_norm_2(overall)
        v = v + self.drop_path(self.cross_attn(self.cross_norm_1(v), context=context))
        a = a + self.drop_path(self.cross_attn(self.cross_norm_3(a), context=context))
        v = v + self.drop_path(self.mlp_att_video_IR(self.norm_att_v_IR(v)))
        a = a + self.drop_path(self.mlp_att_audio_IR(self.norm_att_a_IR(a)))
        return v, a
