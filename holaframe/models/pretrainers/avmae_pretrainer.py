"""Audio-visual masked autoencoder with dual masking (Stage 1 of HOLA, Sec. 3.1)."""

import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from holaframe.models.layers import get_sinusoid_encoding_table
from holaframe.models.losses import audio_reconstruction_targets, video_reconstruction_targets
from holaframe.registry import MODELS

_FILE = 'holaframe/models/pretrainers/avmae_pretrainer.py'


@MODELS.register_module()
class AVMAEPretrainer(BaseModel):
    """AV-MAE pre-trainer: encoders, fusion, dual masking, decoders, Eq. (5)-(7).

    Pipeline for a batch ``inputs = dict(video=(B, 3, T, H, W), audio=(B, 1, 256, 128))``:

    1. Encoder masks ``M_en`` (tube 0.9 for video, random 0.8 for audio; or
       ``inputs['video_mask']``/``inputs['audio_mask']`` if given), ``True`` = masked.
    2. ``video_encoder``/``audio_encoder`` encode the visible tokens and return the normalised
       outputs of the ``skip_indices`` blocks (hierarchical features).
    3. ``fusion_encoder`` (HiCMAE layout: per modality cross-attention to the other modality,
       self-attention, MLP; Eq. (1)-(4)) fuses the visible tokens.
    4. Decoder masks ``M_de`` (running cell 0.5 for video, random 0.5 for audio) when dual
       masking is on; the decoded positions are ``M_en ∩ M_de`` (``M_de`` = positions the decoder
       keeps). Without decoder maskers every encoder-masked position is decoded (HiCMAE).
    5. Eq. (5): decoder input = ``*_encoder_to_decoder`` (no bias) of the fused visible tokens +
       decoder-table rows of their positions, followed by one ``*_mask_token`` (+ table row) per
       decoded position. A decoder-kept position that the encoder saw already carries its
       visible feature, so it gets no second token. Skip contexts (HiCMAE hierarchical decoder)
       = the same projection of each intermediate feature + visible table rows.
    6. Eq. (6) per modality on the decoded positions, Eq. (7) ``L = L_a + L_v`` (reported as
       ``loss_video`` and ``loss_audio``, summed by ``parse_losses``); plus the optional
       hierarchical contrastive loss as ``loss_contrastive``.

    Attribute names match :mod:`tools.model_converters.hicmae2holaframe` and the detectors:
    ``video_encoder``, ``audio_encoder``, ``fusion_encoder``, ``video_decoder``,
    ``audio_decoder``, ``video_encoder_to_decoder``, ``audio_encoder_to_decoder``,
    ``video_mask_token``, ``audio_mask_token``.

    Args:
        video_encoder (dict): Config of a video encoder with ``grid_size``, ``embed_dim`` and
            ``forward(x, mask, out_indices)`` (e.g. ``VideoViTEncoder``).
        audio_encoder (dict): Config of the audio encoder (e.g. ``AudioViTEncoder``).
        fusion_encoder (dict): Config of the fusion encoder (e.g. ``HiCMAEFusionEncoder``).
        video_decoder (dict): Config of the video ``AVMAEDecoder``; ``out_channels`` defaults to
            ``3 * tubelet * patch * patch`` and ``num_skips`` to ``len(skip_indices)``.
        audio_decoder (dict): Config of the audio ``AVMAEDecoder`` (``out_channels`` defaults
            to ``patch * patch``).
        video_masker (dict): Encoder masker of the video. Defaults to ``TubeMasker(0.9)``.
        audio_masker (dict): Encoder masker of the audio. Defaults to ``RandomMasker(0.8)``.
        video_decoder_masker (dict, optional): Decoder masker of the video (dual masking),
            e.g. ``RunningCellMasker(0.5)``; None decodes every masked token.
        audio_decoder_masker (dict, optional): Decoder masker of the audio, e.g.
            ``RandomMasker(0.5)``; None decodes every masked token.
        skip_indices (Sequence[int], optional): Encoder blocks whose normalised outputs feed
            the hierarchical decoder skips and the contrastive loss (HiCMAE-B: ``(3, 6, 9)``).
            None = plain decoders.
        loss_reconstruction (dict): Eq. (6) loss config. Defaults to
            ``MaskedReconstructionLoss``.
        loss_contrastive (dict, optional): ``HierarchicalContrastiveLoss`` config; None = off.
        video_target (dict, optional): Keyword arguments of
            :func:`~holaframe.models.losses.video_reconstruction_targets` (``normalize``,
            ``frame_diff``, ``frame_diff_group_size``, ``mean``, ``std``; mean/std must be the
            data preprocessor's).
        audio_target (dict, optional): Keyword arguments of
            :func:`~holaframe.models.losses.audio_reconstruction_targets` (``normalize``).
        data_preprocessor (dict, optional): Data preprocessor config.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 video_encoder: dict,
                 audio_encoder: dict,
                 fusion_encoder: dict,
                 video_decoder: dict,
                 audio_decoder: dict,
                 video_masker: Optional[dict] = None,
                 audio_masker: Optional[dict] = None,
                 video_decoder_masker: Optional[dict] = None,
                 audio_decoder_masker: Optional[dict] = None,
                 skip_indices: Optional[Sequence[int]] = (3, 6, 9),
                 loss_reconstruction: Optional[dict] = None,
                 loss_contrastive: Optional[dict] = None,
                 video_target: Optional[dict] = None,
                 audio_target: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.video_encoder = MODELS.build(video_encoder)
        self.audio_encoder = MODELS.build(audio_encoder)
        self.fusion_encoder = MODELS.build(fusion_encoder)
        self.skip_indices = None if skip_indices is None else tuple(int(i) for i in skip_indices)
        if loss_contrastive is not None and not self.skip_indices:
            raise ValueError(f'{_FILE}: loss_contrastive needs skip_indices (the encoder layers '
                             'it contrasts).')
        num_skips = len(self.skip_indices) if self.skip_indices else 0

        self.video_tubelet = int(self.video_encoder.patch_embed.tubelet_size)
        self.video_patch = self._square(self.video_encoder.patch_embed.patch_size, 'video')
        self.audio_patch = self._square(self.audio_encoder.patch_embed.patch_size, 'audio')
        video_decoder = copy.deepcopy(video_decoder)
        video_decoder.setdefault(
            'out_channels', 3 * self.video_tubelet * self.video_patch * self.video_patch)
        video_decoder.setdefault('num_skips', num_skips)
        audio_decoder = copy.deepcopy(audio_decoder)
        audio_decoder.setdefault('out_channels', self.audio_patch * self.audio_patch)
        audio_decoder.setdefault('num_skips', num_skips)
        for name, cfg in (('video_decoder', video_decoder), ('audio_decoder', audio_decoder)):
            if cfg['num_skips'] != num_skips:
                raise ValueError(f'{_FILE}: {name}.num_skips={cfg["num_skips"]} but skip_indices '
                                 f'has {num_skips} entries.')
        self.video_decoder = MODELS.build(video_decoder)
        self.audio_decoder = MODELS.build(audio_decoder)

        vdim, adim = self.video_decoder.embed_dim, self.audio_decoder.embed_dim
        self.video_encoder_to_decoder = nn.Linear(self.video_encoder.embed_dim, vdim, bias=False)
        self.audio_encoder_to_decoder = nn.Linear(self.audio_encoder.embed_dim, adim, bias=False)
        self.video_mask_token = nn.Parameter(torch.zeros(1, 1, vdim))
        self.audio_mask_token = nn.Parameter(torch.zeros(1, 1, adim))
        nn.init.trunc_normal_(self.video_mask_token, std=.02)
        nn.init.trunc_normal_(self.audio_mask_token, std=.02)
        # Fixed decoder position tables (float64 -> float32 like HiCMAE; not in the state dict).
        self.register_buffer(
            'video_decoder_pos_embed',
            get_sinusoid_encoding_table(self.video_encoder.num_patches, vdim), persistent=False)
        self.register_buffer(
            'audio_decoder_pos_embed',
            get_sinusoid_encoding_table(self.audio_encoder.num_patches, adim), persistent=False)

        self.video_masker = MODELS.build(video_masker or dict(type='TubeMasker', mask_ratio=0.9))
        self.audio_masker = MODELS.build(
            audio_masker or dict(type='RandomMasker', mask_ratio=0.8))
        self.video_decoder_masker = (None if video_decoder_masker is None else
                                     MODELS.build(video_decoder_masker))
        self.audio_decoder_masker = (None if audio_decoder_masker is None else
                                     MODELS.build(audio_decoder_masker))
        self.loss_reconstruction = MODELS.build(
            loss_reconstruction or dict(type='MaskedReconstructionLoss'))
        self.loss_contrastive = None if loss_contrastive is None else MODELS.build(
            loss_contrastive)
        self.video_target_cfg = dict(video_target or {})
        self.audio_target_cfg = dict(audio_target or {})

    @staticmethod
    def _square(size: Union[int, Sequence[int]], name: str) -> int:
        if isinstance(size, int):
            return size
        size = tuple(size)
        if len(set(size)) != 1:
            raise ValueError(f'{_FILE}: {name} reconstruction targets need square patches, got '
                             f'{size}.')
        return int(size[0])

    @property
    def dual_masking(self) -> bool:
        """Whether both decoders use decoder-side masks (AVF-MAE++ dual masking)."""
        return self.video_decoder_masker is not None and self.audio_decoder_masker is not None

    # ------------------------------------------------------------------ masks
    def _masks(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Encoder masks, decoder masks and the decoded positions ``M_en ∩ M_de``."""
        B, device = inputs['video'].shape[0], inputs['video'].device
        out = {}
        for mod, encoder, masker, dec_masker in (
                ('video', self.video_encoder, self.video_masker, self.video_decoder_masker),
                ('audio', self.audio_encoder, self.audio_masker, self.audio_decoder_masker)):
            grid = encoder.grid_size
            enc_mask = inputs.get(f'{mod}_mask')
            if enc_mask is None:
                enc_mask = masker(B, grid, device)
            enc_mask = enc_mask.to(device=device, dtype=torch.bool).reshape(B, -1)
            if dec_masker is None:
                decode = enc_mask  # HiCMAE: decode every encoder-masked token
                dec_mask = torch.zeros_like(enc_mask)
            else:
                dec_mask = inputs.get(f'{mod}_decoder_mask')
                if dec_mask is None:
                    dec_mask = dec_masker(B, grid, device, encoder_mask=enc_mask)
                dec_mask = dec_mask.to(device=device, dtype=torch.bool).reshape(B, -1)
                decode = enc_mask & ~dec_mask  # Eq. (5)-(6): M_en ∩ M_de (kept by the decoder)
            counts = decode.sum(1)
            if not bool((counts == counts[0]).all()) or int(counts[0]) == 0:
                raise ValueError(
                    f'{_FILE}: every sample must decode the same, non-zero number of {mod} '
                    f'tokens, got {counts.tolist()}; use a decoder masker whose pattern fits the '
                    'encoder mask (running cell with tube masking needs t % 4 == 0).')
            out[f'{mod}_mask'] = enc_mask
            out[f'{mod}_decoder_mask'] = dec_mask
            out[f'{mod}_decode'] = decode
        return out

    # ---------------------------------------------------------------- forward
    def _decode(self, fused: torch.Tensor, intermediates: Optional[List[torch.Tensor]],
                enc_mask: torch.Tensor, decode: torch.Tensor, proj: nn.Linear,
                mask_token: torch.Tensor, pos_table: torch.Tensor,
                decoder: nn.Module) -> torch.Tensor:
        x = proj(fused)
        B, _, C = x.shape
        pos = pos_table.to(dtype=x.dtype).expand(B, -1, -1)
        pos_vis = pos[~enc_mask].reshape(B, -1, C)
        pos_dec = pos[decode].reshape(B, -1, C)
        # Eq. (5): visible fused features  ∪  mask tokens at the decoded positions.
        x_full = torch.cat([x + pos_vis, mask_token + pos_dec], dim=1)
        skips = None
        if decoder.num_skips:
            skips = [proj(f) + pos_vis for f in intermediates]
        return decoder(x_full, pos_dec.shape[1], skips)

    def _forward(self, inputs: dict, data_samples=None) -> Dict[str, object]:
        """Run the whole model; returns every intermediate result (the ``'tensor'`` mode).

        Returns:
            dict: ``video_mask``, ``audio_mask``, ``video_decoder_mask``,
            ``audio_decoder_mask``, ``video_decode``, ``audio_decode`` (bool ``(B, N)``),
            ``video_visible``/``audio_visible`` (encoder outputs), ``video_intermediate``/
            ``audio_intermediate`` (lists), ``fusion_video``/``fusion_audio``,
            ``video_recon`` ``(B, M_v, D_v)``/``audio_recon`` ``(B, M_a, D_a)`` for the decoded
            positions in ascending token order, ``logits_per_video``/``logits_per_audio``
            (lists, or None without the contrastive loss).
        """
        masks = self._masks(inputs)
        out: Dict[str, object] = dict(masks)
        video, audio = inputs['video'], inputs['audio']
        if self.skip_indices:
            v_vis, v_inter = self.video_encoder(video, masks['video_mask'], self.skip_indices)
            a_vis, a_inter = self.audio_encoder(audio, masks['audio_mask'], self.skip_indices)
        else:
            v_vis = self.video_encoder(video, masks['video_mask'])
            a_vis = self.audio_encoder(audio, masks['audio_mask'])
            v_inter, a_inter = None, None
        out.update(video_visible=v_vis, audio_visible=a_vis, video_intermediate=v_inter,
                   audio_intermediate=a_inter, logits_per_video=None, logits_per_audio=None)
        if self.loss_contrastive is not None:
            out['logits_per_video'], out['logits_per_audio'] = self.loss_contrastive.logits(
                v_inter, a_inter)
        f_video, f_audio = self.fusion_encoder(v_vis, a_vis)  # Eq. (1)-(4)
        out.update(fusion_video=f_video, fusion_audio=f_audio)
        out['video_recon'] = self._decode(
            f_video, v_inter, masks['video_mask'], masks['video_decode'],
            self.video_encoder_to_decoder, self.video_mask_token, self.video_decoder_pos_embed,
            self.video_decoder)
        out['audio_recon'] = self._decode(
            f_audio, a_inter, masks['audio_mask'], masks['audio_decode'],
            self.audio_encoder_to_decoder, self.audio_mask_token, self.audio_decoder_pos_embed,
            self.audio_decoder)
        return out

    def targets(self, inputs: dict, decode_video: torch.Tensor,
                decode_audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction targets at the decoded positions, ascending token order.

        Args:
            inputs (dict): Batch inputs with ``video`` and ``audio``.
            decode_video (torch.Tensor): ``(B, N_v)`` bool decoded video positions.
            decode_audio (torch.Tensor): ``(B, N_a)`` bool decoded audio positions.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: ``(B, M_v, D_v)`` and ``(B, M_a, D_a)``.
        """
        # Only the decoded tokens are cut out and normalised (the same values as indexing the
        # targets of every token).
        tv = video_reconstruction_targets(
            inputs['video'], tubelet_size=self.video_tubelet, patch_size=self.video_patch,
            select=decode_video, **self.video_target_cfg)
        ta = audio_reconstruction_targets(
            inputs['audio'], patch_size=self.audio_patch, select=decode_audio,
            **self.audio_target_cfg)
        return tv, ta

    def loss(self, inputs: dict, data_samples=None) -> Dict[str, torch.Tensor]:
        """Eq. (6) for each modality (+ optional contrastive loss); Eq. (7) is their sum.

        Returns:
            dict: ``loss_video``, ``loss_audio`` and, if configured, ``loss_contrastive``.
        """
        out = self._forward(inputs, data_samples)
        tv, ta = self.targets(inputs, out['video_decode'], out['audio_decode'])
        v_ratio = 0.0 if self.video_decoder_masker is None else self.video_decoder_masker.mask_ratio
        a_ratio = 0.0 if self.audio_decoder_masker is None else self.audio_decoder_masker.mask_ratio
        losses = dict(
            loss_video=self.loss_reconstruction(
                out['video_recon'], tv, self.video_encoder.num_patches, v_ratio),
            loss_audio=self.loss_reconstruction(
                out['audio_recon'], ta, self.audio_encoder.num_patches, a_ratio))
        if self.loss_contrastive is not None:
            losses['loss_contrastive'] = self.loss_contrastive(
                out['logits_per_video'], out['logits_per_audio'])
        return losses

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        """Dispatch on ``mode``.

        Args:
            inputs (dict): ``video`` ``(B, 3, T, H, W)`` and ``audio`` ``(B, 1, 256, 128)``
                (normalised, from the data preprocessor); optional fixed ``video_mask``,
                ``audio_mask``, ``video_decoder_mask``, ``audio_decoder_mask`` (bool
                ``(B, N)``, ``True`` = masked).
            data_samples (list, optional): Unused (self-supervised).
            mode (str): ``'loss'`` (dict of losses) or ``'tensor'`` (dict of reconstructions and
                intermediate results, see :meth:`_forward`).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'{_FILE}: mode must be "loss" or "tensor" for a pre-trainer, got '
                         f'{mode!r}.')
