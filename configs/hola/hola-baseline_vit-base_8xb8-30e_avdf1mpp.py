# Table 3, row 1, "pre-trained baseline": the AV-MAE pre-trained encoders and fusion encoder, the
# temporal alignment neck (Sec. 3.2.2, part of the backbone), the two aligned streams
# concatenated along the sequence and averaged, and the same linear cross-entropy head as every
# later row. Each later row adds one component: hola-ici_... (+ ICI), hola-ici-lgcf_... (+ LGCF),
# hola_vit-base_8xb8-30e_avdf1mpp.py (+ pyramid refiner). HiCMAE's own fine-tuning head on the
# same encoders is hola-hicmae-head_vit-base_8xb8-30e_avdf1mpp.py (a different head, so not a
# Table 3 row here).
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(interaction=None, fusion=None, refiner=None)
