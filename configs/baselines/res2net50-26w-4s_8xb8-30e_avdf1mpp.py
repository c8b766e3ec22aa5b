# Res2Net-50 26w x 4s (Gao et al., TPAMI 2019), the Table 1 audio expert, on an 80-bin log-mel
# filterbank treated as a one-channel image (23.6 M parameters), two-class head, from random
# weights; the schedule and batch of the HOLA configs (AdamW, lr 1.5e-4, cosine, 30 epochs,
# 8 GPUs x 8 clips), video-level labels only.
_base_ = [
    '../_base_/datasets/avdf1mpp_audio-fbank.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleModalityClassifier',
    modality='audio',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    backbone=dict(type='Res2Net', in_channels=1, base_width=26, scale=4),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
