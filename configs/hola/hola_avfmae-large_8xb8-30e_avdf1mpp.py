# HOLA fine-tuned from AVF-MAE++'s released large model: local-global encoders of width 640
# (depth 12, 10 heads) and its fusion encoder at that width. The neck maps the 640-wide tokens
# to HOLA's C = 512, so ICI, LGCF, the refiner and the head are those of
# hola_avfmae-base_8xb8-30e_avdf1mpp.py (grids, regions, data and schedule too).
# Convert the weights with
#   python tools/model_converters/avfmae2holaframe.py <checkpoint>.pth \
#       checkpoints/avfmae-large_holaframe.pth \
#       --config configs/hola/hola_avfmae-large_8xb8-30e_avdf1mpp.py
_base_ = ['./hola_avfmae-base_8xb8-30e_avdf1mpp.py']

pretrained = 'checkpoints/avfmae-large_holaframe.pth'
width = 640
model = dict(
    video_encoder=dict(arch='large', init_cfg=dict(checkpoint=pretrained)),
    audio_encoder=dict(arch='large', init_cfg=dict(checkpoint=pretrained)),
    fusion_encoder=dict(embed_dim=width, num_heads=10, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels_video=width, in_channels_audio=width),
)
