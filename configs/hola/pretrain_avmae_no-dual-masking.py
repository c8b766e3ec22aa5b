# Ablation of configs/hola/pretrain_avmae.py without decoder masking: the decoders see every
# encoder-masked token (HiCMAE's pre-training). Same Eq. (6) with lambda = 0.
_base_ = ['./pretrain_avmae.py']

model = dict(video_decoder_masker=None, audio_decoder_masker=None)
