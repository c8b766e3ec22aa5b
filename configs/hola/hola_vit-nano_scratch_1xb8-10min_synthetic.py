# hola_vit-nano_1xb8-10min_synthetic.py from random weights (no AV-MAE initialisation): the
# control of the pre-training comparison in configs/hola/README.md, and the nano model the tests
# train without a pre-training stage.
_base_ = ['./hola_vit-nano_1xb8-10min_synthetic.py']
pretrained = None
model = dict(
    video_encoder=dict(init_cfg=None),
    audio_encoder=dict(init_cfg=None),
    fusion_encoder=dict(init_cfg=None),
)
