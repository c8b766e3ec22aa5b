# Table 3, row 1, "pre-trained baseline": HiCMAE's own fine-tuning head (layer-weighted pooling
# of every encoder layer, pooled fusion-encoder streams, fc_norm, linear) on the same encoders;
# no neck, ICI, LGCF or refiner. Everything else as hola_vit-base_8xb8-30e_avdf1mpp.py.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(
    neck=None,
    interaction=None,
    fusion=None,
    refiner=None,
    head=dict(_delete_=True, type='HiCMAEClsHead', video_dim=512, audio_dim=512, video_depth=10,
              audio_depth=10),
)
