# AV-MAE pre-trainer small enough for 2 CPU cores: encoders dim 64, depth 2 ('nano'), 2 fusion
# layers, decoders dim 32 with skips from encoder blocks (0, 1) (so decoder depth 3), 16 frames of
# 64x64 (8x4x4 = 128 video tokens), fbank 256x128 (128 audio tokens). Same masking as the paper.
video_mean = [123.675, 116.28, 103.53]
video_std = [58.395, 57.12, 57.375]

model = dict(
    type='AVMAEPretrainer',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=video_mean, std=video_std),
    video_encoder=dict(
        type='VideoViTEncoder', arch='nano', img_size=64, patch_size=16, num_frames=16,
        tubelet_size=2),
    audio_encoder=dict(
        type='AudioViTEncoder', arch='nano', input_type='fbank', spec_size=(256, 128),
        patch_size=16),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=64, depth=2, num_heads=4),
    video_decoder=dict(type='AVMAEDecoder', embed_dim=32, depth=3, num_heads=2),
    audio_decoder=dict(type='AVMAEDecoder', embed_dim=32, depth=3, num_heads=2),
    video_masker=dict(type='TubeMasker', mask_ratio=0.9),
    audio_masker=dict(type='RandomMasker', mask_ratio=0.8),
    video_decoder_masker=dict(type='RunningCellMasker', mask_ratio=0.5),
    audio_decoder_masker=dict(type='RandomMasker', mask_ratio=0.5),
    skip_indices=(0, 1),
    loss_reconstruction=dict(type='MaskedReconstructionLoss', normalizer='paper'),
    loss_contrastive=None,
    video_target=dict(normalize=True, frame_diff=True, mean=video_mean, std=video_std),
    audio_target=dict(normalize=True),
)
