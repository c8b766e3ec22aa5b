# ResNet-SE (SE-ResNet, Hu et al., CVPR 2018) at tiny size on the synthetic set (audio only, 64-bin
# filterbank of the whole clip, clip labels only), trained from random weights with the budget of
# the synthetic HOLA configs (10 epochs, batch 8, AdamW lr 1e-3, cosine). Standard size on AV-
# Deepfake1M++: se-resnet50_8xb8-30e_avdf1mpp.py. Results: docs/results.md.
_base_ = [
    '../_base_/datasets/synthetic_audio-fbank.py',
    '../_base_/schedules/adamw-cosine_10e_from-scratch.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleModalityClassifier',
    modality='audio',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    backbone=dict(type='SEResNet', depths=(1, 1, 1, 1), stem_channels=16),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='video/auc',
                    rule='greater'))
