"""Top-k / max pooling of frame scores into a clip score (opt-in dense component)."""

from typing import Optional

import torch
import torch.nn as nn

from holaframe.registry import MODELS


@MODELS.register_module()
class TopKFramePooling(nn.Module):
    """Clip logit = mean of the ``k`` largest frame logits (``k = 1``: max pooling).

    A short fake segment among many real frames is missed by mean pooling; the top-k mean
    keeps it. ``k`` is either fixed or a fraction of the number of frames.

    Args:
        k (int, optional): Number of frames kept. Defaults to 1 when ``ratio`` is None.
        ratio (float, optional): Fraction of frames kept (at least one); overrides ``k``.
    """

    def __init__(self, k: Optional[int] = None, ratio: Optional[float] = None) -> None:
        super().__init__()
        if ratio is not None and not 0 < ratio <= 1:
            raise ValueError(f'top_k_frame_pooling.py: ratio must be in (0, 1], got {ratio}')
        if k is not None and k < 1:
            raise ValueError(f'top_k_frame_pooling.py: k must be >= 1, got {k}')
        self.k = k if k is not None else 1
        self.ratio = ratio

    def num_kept(self, num_frames: int) -> int:
        """Number of frames averaged for a sequence of ``num_frames``."""
        if self.ratio is not None:
            return max(1, int(round(self.ratio * num_frames)))
        return min(self.k, num_frames)

    def forward(self, frame_logits: torch.Tensor) -> torch.Tensor:
        """Args:
            frame_logits (Tensor): ``(B, T)``.

        Returns:
            Tensor: Clip logits ``(B,)``.
        """
        k = self.num_kept(frame_logits.shape[-1])
        return frame_logits.topk(k, dim=-1).values.mean(dim=-1)
