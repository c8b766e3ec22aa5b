# HOLA (Sec. 3.2) with HiCMAE-B encoders (dim 512, depth 10, 8 heads) for the paper's input:
# 16 frames at 224 x 224 (tubelet 2x16x16 -> 8 x 14 x 14 = 1568 video tokens) and MFCC-32 in
# 16 segments (16 audio tokens). The pre-trained HiCMAE fusion encoder (2 layers) is kept; then
# the temporal alignment neck (L = 16, C = 512), ICI (3 layers), LGCF (N = 2), the pyramid
# refiner and a linear cross-entropy head.
# Where the paper is silent: L = 16 (one position per frame / MFCC segment), C = 512 (encoder
# width), N = 2 LGCF layers, 8 heads everywhere, drop path 0.1 in the encoders (HiCMAE's
# fine-tuning default), fixed sin-cos positions added after the neck.
# The experiment configs add the pre-trained initialisation (a `pretrained` variable and a
# PretrainedPart init_cfg on each encoder); this file is the architecture only.
model = dict(
    type='HOLADetector',
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    video_encoder=dict(
        type='VideoViTEncoder', arch='base', img_size=224, num_frames=16, tubelet_size=2,
        drop_path_rate=0.1),
    audio_encoder=dict(
        type='AudioViTEncoder', arch='base', input_type='mfcc', num_segments=16, num_coeffs=32,
        drop_path_rate=0.1),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=512, depth=2, num_heads=8),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=512, in_channels_audio=512,
              out_channels=512, in_length_video=8 * 14 * 14, in_length_audio=16, out_length=16),
    interaction=dict(type='IterativeCrossModalInteraction', dim=512, num_layers=3, num_heads=8),
    fusion=dict(type='LocalGlobalContextualFusion', dim=512, num_layers=2, num_heads=8),
    refiner=dict(type='PyramidRefiner', dim=512),
    head=dict(type='ClsHead', in_channels=512),
)
