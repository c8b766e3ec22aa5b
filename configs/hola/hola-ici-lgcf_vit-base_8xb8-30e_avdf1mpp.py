# Table 3, row 3, "+ LGCF": hola-ici_vit-base_8xb8-30e_avdf1mpp.py plus local-global contextual
# fusion (Eq. 11); no refiner (mean of F_f over the 2L positions) before the same linear head.
# Row 4 ("+ Pyramid refiner") is hola_vit-base_8xb8-30e_avdf1mpp.py itself.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(refiner=None)
