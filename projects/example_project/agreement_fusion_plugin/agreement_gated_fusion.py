"""Agreement-gated fusion: a drop-in alternative to HOLA's Local-Global Contextual Fusion."""

import torch
import torch.nn as nn

from holaframe.registry import MODELS


@MODELS.register_module()
class AgreementGatedFusion(nn.Module):
    """Gate both streams by how much video and audio agree at each aligned position.

    For aligned features ``F_v, F_a`` in ``R^{L x C}``:
    ``a = F_v * F_a`` (element-wise agreement), ``g = sigmoid(W a + b)`` in ``R^{L x C}``,
    ``F_f = Concat_seq(F_v * g, F_a * g)`` in ``R^{2L x C}``. The output has the same shape as
    :class:`~holaframe.models.fusion.LocalGlobalContextualFusion`, so a config swaps one for
    the other with ``model.fusion``.

    Args:
        dim (int): Token width ``C``.
    """

    component_family = 'fusion'

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gate = nn.Linear(dim, dim)

    def forward(self, f_v: torch.Tensor, f_a: torch.Tensor) -> torch.Tensor:
        """Fuse ``(B, L, C)`` video and audio features into ``(B, 2L, C)``."""
        if f_v.shape != f_a.shape:
            raise ValueError(f'video and audio features must be aligned, got {tuple(f_v.shape)} '
                             f'and {tuple(f_a.shape)}')
        g = torch.sigmoid(self.gate(f_v * f_a))
        return torch.cat([f_v * g, f_a * g], dim=1)
