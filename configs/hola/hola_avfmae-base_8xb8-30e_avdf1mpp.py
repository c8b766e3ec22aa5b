# The paper's HOLA (Sec. 3.2) fine-tuned from AVF-MAE++'s released base model (CVPR 2025) instead
# of an AV-MAE run of our own: its local-global video and audio encoders (LGBlock, dim 512, depth
# 10, 8 heads) and its fusion encoder (2 gated layers with iterative refinement). Everything else
# is hola_vit-base_8xb8-30e_avdf1mpp.py: 16 frames at 224 px, MFCC-32 in 16 segments, temporal
# alignment neck, ICI, LGCF, pyramid refiner, cross-entropy; AdamW lr 1.5e-4, 30 epochs, 8 x 8.
# Weights: download AVF-MAE++'s base pre-training checkpoint and convert it, checked against this
# config (docs/pretrained_weights.md):
#   python tools/model_converters/avfmae2holaframe.py <checkpoint>.pth \
#       checkpoints/avfmae-base_holaframe.pth \
#       --config configs/hola/hola_avfmae-base_8xb8-30e_avdf1mpp.py
# Grids: AVF-MAE++ pre-trains at 160 px (token grid 8 x 10 x 10, regions of 2 x 5 x 10 tokens =
# 4 x 2 x 1 regions) and on a 256 x 128 fbank (16 x 8 tokens, 4 x 4 regions). At 224 px
# (8 x 14 x 14) regions of 2 x 7 x 14 tokens keep the 4 x 2 x 1 layout, so the video region tokens
# load one to one and only the positions are mapped. The 16 MFCC segments form 8 regions of 2;
# the fbank region tokens (4 x 2) are mapped onto them and the fbank patch embedding, a different
# layer, keeps its own initialisation.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']

pretrained = 'checkpoints/avfmae-base_holaframe.pth'
model = dict(
    video_encoder=dict(
        _delete_=True, type='AVFMAEVideoEncoder', arch='base', img_size=224, num_frames=16,
        tubelet_size=2, region_size=(2, 7, 14), drop_path_rate=0.1,
        init_cfg=dict(type='PretrainedPart', checkpoint=pretrained, prefix='video_encoder.',
                      variable='pretrained')),
    audio_encoder=dict(
        _delete_=True, type='AVFMAEAudioEncoder', arch='base', input_type='mfcc',
        num_segments=16, num_coeffs=32, region_size=(2, ), drop_path_rate=0.1,
        init_cfg=dict(type='PretrainedPart', checkpoint=pretrained, prefix='audio_encoder.',
                      variable='pretrained')),
    fusion_encoder=dict(
        _delete_=True, type='AVFMAEFusionEncoder', embed_dim=512, depth=2, num_heads=8,
        init_cfg=dict(type='PretrainedPart', checkpoint=pretrained, prefix='fusion_encoder.',
                      variable='pretrained')),
)
# No weight decay on the region tokens (AVF-MAE++'s rule, as for position tables).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'region_tokens': dict(decay_mult=0.0)}))
