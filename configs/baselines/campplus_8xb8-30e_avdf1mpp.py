# CAM++ (Wang et al., Interspeech 2023), the Table 1 audio expert, at its standard size (80
# filterbank bins, 192-d embedding; 6.8 M parameters) with a two-class head, from random
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
    backbone=dict(type='CAMPPlus', in_channels=80, embed_dim=192),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
