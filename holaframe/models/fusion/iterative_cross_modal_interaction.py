"""Iterative-aware Cross-modal Interaction, ICI (HOLA Sec. 3.2.3, Eq. 8-10)."""

from typing import Optional, Tuple

import torch
import torch.nn as nn

from holaframe.models.layers.cross_attention import CrossAttention
from holaframe.models.layers.relative_position_bias import RelativePositionBias
from holaframe.registry import MODELS


class GatedCrossModalUpdate(nn.Module):
    """One direction of one ICI layer: modality ``c`` attends to modality ``o``.

    ``MHCA`` is the multi-head cross-attention of Eq. (3)-(4) (queries from ``F_c``, keys and
    values from ``F_o``).
    Eq. (8) ``G = sigmoid(W_g [F_c, MHCA(F_c, F_o)])`` with ``W_g`` = Linear-ReLU-Linear;
    Eq. (9) ``F_u = (1 - G) * F_c + G * MHCA(F_c, F_o)``;
    Eq. (10) ``F_c <- LayerNorm(F_c + F_u)``.

    Args:
        dim (int): Token width ``C``.
        num_heads (int): Heads of the cross-attention.
        gate_hidden (int): Hidden width of the gate network.
        attn_drop (float): Attention dropout.
        rel_pos_distance (int, optional): With a value ``R``, a learnable per-head bias of the
            time offset between query and key (clipped to ``+-R``) is added to the
            cross-attention logits (:class:`RelativePositionBias`). None: no bias.
    """

    def __init__(self, dim: int, num_heads: int, gate_hidden: int, attn_drop: float = 0.0,
                 rel_pos_distance: Optional[int] = None) -> None:
        super().__init__()
        self.cross_attn = CrossAttention(dim, num_heads=num_heads, attn_drop=attn_drop)
        self.rel_pos = (RelativePositionBias(num_heads, rel_pos_distance)
                        if rel_pos_distance is not None else None)
        self.gate = nn.Sequential(
            nn.Linear(2 * dim, gate_hidden), nn.ReLU(inplace=True), nn.Linear(gate_hidden, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, f_c: torch.Tensor, f_o: torch.Tensor,
                context_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            f_c (Tensor): Features being updated ``(B, L, C)``.
            f_o (Tensor): The other modality ``(B, L, C)``.
            context_valid (Tensor, optional): ``(B,)`` bool; where False the cross-attention
                output is replaced by zeros (the other modality is absent).
        """
        bias = None
        if self.rel_pos is not None:
            bias = self.rel_pos(torch.arange(f_c.shape[1], device=f_c.device),
                                torch.arange(f_o.shape[1], device=f_o.device)).to(f_c.dtype)
        attended = self.cross_attn(f_c, f_o, attn_mask=bias)  # MHCA(F_c, F_o)
        if context_valid is not None:
            attended = attended * context_valid.to(attended.dtype).view(-1, 1, 1)
        g = torch.sigmoid(self.gate(torch.cat([f_c, attended], dim=-1)))  # Eq. (8)
        f_u = (1 - g) * f_c + g * attended  # Eq. (9)
        return self.norm(f_c + f_u)  # Eq. (10)


@MODELS.register_module()
class IterativeCrossModalInteraction(nn.Module):
    """Stacked bidirectional gated cross-modal interaction layers (Sec. 3.2.3, Eq. 8-10).

    Each layer updates the video stream from the audio stream and the audio stream from the
    video stream; both directions read the layer's *inputs* (the audio update of layer ``i``
    sees the video features from before layer ``i``'s video update).

    Args:
        dim (int): Token width ``C``.
        num_layers (int): Number of stacked layers. Defaults to 3 (the paper).
        num_heads (int): Cross-attention heads. Defaults to 8.
        gate_hidden (int, optional): Hidden width of the gate MLP. Defaults to ``dim``.
        attn_drop (float): Attention dropout. Defaults to 0.
        rel_pos_distance (int, optional): Learnable relative time-position bias of the
            cross-attention logits (offsets clipped to ``+-rel_pos_distance``), so that a frame
            can attend to the other modality at the same time step without positions in the
            token values. None (default, the paper's MHCA): no bias.
    """

    def __init__(self, dim: int, num_layers: int = 3, num_heads: int = 8,
                 gate_hidden: Optional[int] = None, attn_drop: float = 0.0,
                 rel_pos_distance: Optional[int] = None) -> None:
        super().__init__()
        gate_hidden = gate_hidden or dim
        self.video_layers = nn.ModuleList(
            [GatedCrossModalUpdate(dim, num_heads, gate_hidden, attn_drop, rel_pos_distance)
             for _ in range(num_layers)])
        self.audio_layers = nn.ModuleList(
            [GatedCrossModalUpdate(dim, num_heads, gate_hidden, attn_drop, rel_pos_distance)
             for _ in range(num_layers)])

    def forward(self, f_v: torch.Tensor, f_a: torch.Tensor,
                has_audio: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Interact the two streams.

        Args:
            f_v (Tensor): Video features ``(B, L, C)``.
            f_a (Tensor): Audio features ``(B, L, C)``.
            has_audio (Tensor, optional): ``(B,)`` bool. For silent clips the video stream
                attends to nothing: its update uses ``MHCA = 0`` (only the gate's ``(1 - G) F_c``
                path remains), so no information from the empty audio reaches the video.

        Returns:
            tuple: Interacted ``F_v`` and ``F_a``, each ``(B, L, C)``.
        """
        if f_v.shape != f_a.shape:
            raise ValueError(f'iterative_cross_modal_interaction.py: F_v {tuple(f_v.shape)} and '
                             f'F_a {tuple(f_a.shape)} must have the same shape (use a neck)')
        for video_layer, audio_layer in zip(self.video_layers, self.audio_layers):
            # Both directions read the layer's inputs.
            new_v = video_layer(f_v, f_a, context_valid=has_audio)
            new_a = audio_layer(f_a, f_v)
            f_v, f_a = new_v, new_a
        return f_v, f_a
