# ECAPA-TDNN (Desplanques et al., Interspeech 2020) at tiny size on the synthetic set (audio only,
# 64-bin filterbank of the whole clip, clip labels only), trained from random weights with the
# budget of the synthetic HOLA configs (10 epochs, batch 8, AdamW lr 1e-3, cosine). Standard size on
# AV-Deepfake1M++: ecapa-tdnn_c1024_8xb8-30e_avdf1mpp.py. Results: docs/results.md.
_base_ = [
    '../_base_/datasets/synthetic_audio-fbank.py',
    '../_base_/schedules/adamw-cosine_10e_from-scratch.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleModalityClassifier',
    modality='audio',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    backbone=dict(type='ECAPATDNN', in_channels=64, channels=128, mfa_channels=384,
                  attention_channels=64, embed_dim=64),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='video/auc',
                    rule='greater'))
