"""Masked reconstruction loss of AV-MAE, Eq. (6) of the HOLA paper."""

import torch
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class MaskedReconstructionLoss(nn.Module):
    """Per-modality MSE over the positions masked by the encoder and kept by the decoder.

    Eq. (6): ``L_c = 1 / ((1 - lambda_c) * N_c) * sum_{i in M_de ∩ M_en} ||X_i - X^_i||^2``
    with ``lambda_c`` the decoder masking ratio and ``N_c`` the number of tokens. The squared
    error of a position is averaged over its ``D`` target values (``patch_reduction='mean'``,
    the element-wise MSE of HiCMAE / VideoMAE, so the loss does not grow with the patch size)
    or summed (``'sum'``, the literal squared norm). The result is averaged over the batch.
    Eq. (7) adds the audio and video terms; the pre-trainer does that by reporting both.

    ``normalizer='paper'`` divides by ``(1 - lambda_c) * N_c`` as Eq. (6) says; ``'count'``
    divides by the number of positions actually counted (HiCMAE's plain MSE over the masked
    tokens). The two differ by the constant encoder masking ratio.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        normalizer (str): ``'paper'`` or ``'count'``. Defaults to ``'paper'``.
        patch_reduction (str): ``'mean'`` or ``'sum'`` over the values of a patch.
            Defaults to ``'mean'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 normalizer: str = 'paper',
                 patch_reduction: str = 'mean') -> None:
        super().__init__()
        if normalizer not in ('paper', 'count'):
            raise ValueError('holaframe/models/losses/masked_reconstruction_loss.py: normalizer '
                             f"must be 'paper' or 'count', got {normalizer!r}.")
        if patch_reduction not in ('mean', 'sum'):
            raise ValueError('holaframe/models/losses/masked_reconstruction_loss.py: '
                             f"patch_reduction must be 'mean' or 'sum', got {patch_reduction!r}.")
        self.loss_weight = loss_weight
        self.normalizer = normalizer
        self.patch_reduction = patch_reduction

    def forward(self, pred: torch.Tensor, target: torch.Tensor, num_tokens: int,
                decoder_mask_ratio: float = 0.0) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (torch.Tensor): Reconstructions ``(B, M, D)`` at the positions of
                ``M_de ∩ M_en`` (same count M for every sample).
            target (torch.Tensor): Targets at the same positions, same shape.
            num_tokens (int): ``N_c``, the modality's total number of tokens.
            decoder_mask_ratio (float): ``lambda_c`` (0 when the decoder sees every masked
                token).

        Returns:
            torch.Tensor: Scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError('holaframe/models/losses/masked_reconstruction_loss.py: pred '
                             f'{tuple(pred.shape)} and target {tuple(target.shape)} differ.')
        err = (pred.float() - target.float()).pow(2)
        err = err.mean(dim=-1) if self.patch_reduction == 'mean' else err.sum(dim=-1)
        if self.normalizer == 'paper':
            denom = (1.0 - decoder_mask_ratio) * num_tokens  # Eq. (6): (1 - lambda_c) * N_c
        else:
            denom = max(pred.shape[1], 1)
        per_sample = err.sum(dim=1) / denom  # Eq. (6): sum over M_de ∩ M_en
        return self.loss_weight * per_sample.mean()

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, normalizer={self.normalizer!r}, '
                f'patch_reduction={self.patch_reduction!r}')
