# Single-modality ablation of the paper's model: HOLA's video branch alone
# (HOLASingleModalityDetector: video encoder -> neck aligner -> LGCF over its tokens -> pyramid
# refiner -> head; the other encoder, the fusion encoder and ICI are left out), everything else
# as hola_vit-base_8xb8-30e_avdf1mpp.py (AV-MAE initialisation of the kept encoder, data,
# schedule, budget).
_base_ = ['../hola/hola_vit-base_8xb8-30e_avdf1mpp.py']
model = dict(type='HOLASingleModalityDetector', modality='video')
