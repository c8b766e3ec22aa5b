# Single-modality ablation of HOLA: the video branch alone (video encoder -> neck aligner ->
# LGCF over the video tokens -> pyramid refiner -> head; no audio encoder, no fusion encoder,
# no ICI) with everything else of hola_vit-nano_scratch_1xb8-10min_synthetic.py: its data
# pipeline, schedule and budget. Results: docs/results.md.
_base_ = ['../hola/hola_vit-nano_scratch_1xb8-10min_synthetic.py']
model = dict(type='HOLASingleModalityDetector', modality='video')
