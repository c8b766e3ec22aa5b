# HiCMAE's own fine-tuning head on the pre-trained encoders (layer-weighted pooling of every
# encoder layer, pooled fusion-encoder streams, fc_norm, linear); no neck, ICI, LGCF or refiner.
# The reference point of HiCMAE-style fine-tuning. It changes the head as well as the fusion
# path, so the Table 3 chain starts from hola-baseline_vit-base_8xb8-30e_avdf1mpp.py instead.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(
    neck=None,
    interaction=None,
    fusion=None,
    refiner=None,
    head=dict(_delete_=True, type='HiCMAEClsHead', video_dim=512, audio_dim=512, video_depth=10,
              audio_depth=10),
)
