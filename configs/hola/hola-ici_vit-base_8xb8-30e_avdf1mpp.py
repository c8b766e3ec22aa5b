# Table 3, row 2, "+ ICI": neck + iterative-aware cross-modal interaction; no LGCF (the two
# aligned streams are concatenated along the sequence) and no refiner (mean over the 2L
# positions) before the linear cross-entropy head. Otherwise as hola_vit-base_8xb8-30e_avdf1mpp.py.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(fusion=None, refiner=None)
