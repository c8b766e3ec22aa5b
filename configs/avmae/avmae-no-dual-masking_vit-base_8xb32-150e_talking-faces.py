# Ablation of avmae_vit-base_8xb32-150e_talking-faces.py without decoder masking: the decoders
# see every encoder-masked token (HiCMAE's pre-training). Same Eq. (6) with lambda = 0.
_base_ = ['./avmae_vit-base_8xb32-150e_talking-faces.py']

model = dict(video_decoder_masker=None, audio_decoder_masker=None)
