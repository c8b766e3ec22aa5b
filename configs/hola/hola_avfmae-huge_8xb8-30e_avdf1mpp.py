# HOLA fine-tuned from AVF-MAE++'s released huge model: local-global encoders of width 768
# (depth 15, 12 heads) and its fusion encoder at that width. The neck maps the 768-wide tokens
# to HOLA's C = 512, so ICI, LGCF, the refiner and the head are those of
# hola_avfmae-base_8xb8-30e_avdf1mpp.py (grids, regions, data and schedule too).
# Convert the weights with
#   python tools/model_converters/avfmae2holaframe.py <checkpoint>.pth \
#       checkpoints/avfmae-huge_holaframe.pth \
#       --config configs/hola/hola_avfmae-huge_8xb8-30e_avdf1mpp.py
_base_ = ['./hola_avfmae-base_8xb8-30e_avdf1mpp.py']

pretrained = 'checkpoints/avfmae-huge_holaframe.pth'
width = 768
model = dict(
    video_encoder=dict(arch='huge', init_cfg=dict(checkpoint=pretrained)),
    audio_encoder=dict(arch='huge', init_cfg=dict(checkpoint=pretrained)),
    fusion_encoder=dict(embed_dim=width, num_heads=12, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels_video=width, in_channels_audio=width),
)
