"""AVF-MAE++ iterative refinement of the joint audio-visual context."""

from typing import Optional

import torch
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class IterativeRefinement(nn.Module):
    """Refine a joint context sequence from the current video and audio streams.

    ``x`` (the context, ``(B, M, C)``; on the first call the concatenated video and audio
    summaries ``(B, M, 2C)``, first mapped to ``C`` by ``post_extract_proj``) reads each stream
    with one parameter-free attention, ``softmax(x s^T / sqrt(C)) s`` (HOLA Eq. (1)-(2) without
    projections), whose result goes through a 1x1 ``Conv1d`` + ``BatchNorm1d`` + ``PReLU``
    (``conv_audio``, ``conv_video``); ``x' = layer_norm(x + r_audio + r_video)``.

    Sub-module names follow AVF-MAE++'s ``IterativeRefinement`` (``layer_norm``,
    ``post_extract_proj``, ``conv_audio.{0,1,2}``, ``conv_video.{0,1,2}``). Its LayerNorm has
    PyTorch's default epsilon 1e-5 (AVF-MAE++ builds this module without its 1e-6 norm layer).
    The BatchNorm layers normalise over every context token of the batch, so training needs two
    or more of them (two clips when the context is one summary token per clip).

    Args:
        dim (int): Stream width C.
        concat_dim (int, optional): Width of a context that must first be projected to ``dim``
            (AVF-MAE++: ``2 * dim``); None = the context always has width ``dim``.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-5.
    """

    def __init__(self, dim: int, concat_dim: Optional[int] = None,
                 norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.dim = dim
        self.concat_dim = concat_dim
        self.layer_norm = nn.LayerNorm(dim, eps=norm_eps)
        self.post_extract_proj = (nn.Linear(concat_dim, dim) if concat_dim is not None else
                                  nn.Identity())
        self.conv_audio = nn.Sequential(nn.Conv1d(dim, dim, 1), nn.BatchNorm1d(dim), nn.PReLU())
        self.conv_video = nn.Sequential(nn.Conv1d(dim, dim, 1), nn.BatchNorm1d(dim), nn.PReLU())

    def _read(self, x: torch.Tensor, stream: torch.Tensor, conv: nn.Module) -> torch.Tensor:
        attn = torch.softmax(x @ stream.transpose(1, 2) / self.dim**0.5, dim=-1)
        return conv((attn @ stream).transpose(1, 2)).transpose(1, 2)

    def forward(self, video: torch.Tensor, audio: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """One refinement step.

        Args:
            video (torch.Tensor): ``(B, Nv, C)``.
            audio (torch.Tensor): ``(B, Na, C)``.
            x (torch.Tensor): Context ``(B, M, C)`` or ``(B, M, concat_dim)``.

        Returns:
            torch.Tensor: The refined context ``(B, M, C)``.
        """
        if self.concat_dim is not None and x.shape[-1] == self.concat_dim:
            x = self.post_extract_proj(x)
        if x.shape[-1] != self.dim:
            raise ValueError(f'holaframe/models/layers/iterative_refinement.py: the context has '
                             f'width {x.shape[-1]}, expected {self.dim} or {self.concat_dim}.')
        if self.training and x.shape[0] * x.shape[1] < 2:
            raise ValueError('holaframe/models/layers/iterative_refinement.py: BatchNorm needs '
                             'at least two context tokens per batch while training; with one '
                             'context token per clip use a batch of two or more clips.')
        x = x + self._read(x, audio, self.conv_audio) + self._read(x, video, self.conv_video)
        return self.layer_norm(x)
