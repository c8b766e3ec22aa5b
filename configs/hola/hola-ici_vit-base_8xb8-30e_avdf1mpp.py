# Table 3, row 2, "+ ICI": hola-baseline_vit-base_8xb8-30e_avdf1mpp.py plus the iterative-aware
# cross-modal interaction (Eq. 8-10); no LGCF (the two streams are concatenated along the
# sequence) and no refiner (mean over the 2L positions) before the same linear head.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(fusion=None, refiner=None)
