# AV-MAE pre-trainer, base size (HOLA Sec. 3.1 = AVF-MAE++ / HiCMAE-B shapes): video and audio
# ViT encoders dim 512, depth 10, 8 heads; 2 fusion layers; decoders dim 384, depth 4, 6 heads with
# HiCMAE's hierarchical skips from encoder blocks (3, 6, 9). 16 frames of 160x160 face crops
# (8x10x10 = 800 video tokens), fbank 256x128 (16x8 = 128 audio tokens).
# Dual masking: tube 0.9 / random 0.8 in the encoders, running cell 0.5 / random 0.5 in the
# decoders (Eq. (5)); loss Eq. (6)-(7).
video_mean = [123.675, 116.28, 103.53]  # ImageNet, 0-255 scale (HiCMAE)
video_std = [58.395, 57.12, 57.375]

model = dict(
    type='AVMAEPretrainer',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=video_mean, std=video_std),
    video_encoder=dict(
        type='VideoViTEncoder', arch='base', img_size=160, patch_size=16, num_frames=16,
        tubelet_size=2),
    audio_encoder=dict(
        type='AudioViTEncoder', arch='base', input_type='fbank', spec_size=(256, 128),
        patch_size=16),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=512, depth=2, num_heads=8),
    video_decoder=dict(type='AVMAEDecoder', embed_dim=384, depth=4, num_heads=6),
    audio_decoder=dict(type='AVMAEDecoder', embed_dim=384, depth=4, num_heads=6),
    video_masker=dict(type='TubeMasker', mask_ratio=0.9),
    audio_masker=dict(type='RandomMasker', mask_ratio=0.8),
    video_decoder_masker=dict(type='RunningCellMasker', mask_ratio=0.5),
    audio_decoder_masker=dict(type='RandomMasker', mask_ratio=0.5),
    skip_indices=(3, 6, 9),
    loss_reconstruction=dict(type='MaskedReconstructionLoss', normalizer='paper'),
    # Eq. (7) has no contrastive term; HiCMAE's is available as
    # dict(type='HierarchicalContrastiveLoss', temperature=0.07, loss_weight=0.0025).
    loss_contrastive=None,
    # Per-patch normalised targets with HiCMAE's frame-difference target (second frame of each
    # tubelet minus the first; ON in HiCMAE's released pretrain_base.sh, the paper is silent).
    video_target=dict(normalize=True, frame_diff=True, mean=video_mean, std=video_std),
    audio_target=dict(normalize=True),
)
