# The paper's HOLA (hola_vit-base_8xb8-30e_avdf1mpp.py) trained from random weights: no AV-MAE
# initialisation. Not the paper's setup (it fine-tunes the pre-trained encoders); the control
# that shows what pre-training contributes.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
pretrained = None
model = dict(
    video_encoder=dict(init_cfg=None),
    audio_encoder=dict(init_cfg=None),
    fusion_encoder=dict(init_cfg=None),
)
