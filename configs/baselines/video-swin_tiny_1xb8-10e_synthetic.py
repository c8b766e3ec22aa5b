# Video Swin Transformer (Liu et al., CVPR 2022) at tiny size on the synthetic set (video only: the
# 16 uniformly sampled frames at 112 px of the synthetic HOLA configs, clip labels only), trained
# from random weights with their budget (10 epochs, batch 8, AdamW lr 1e-3, cosine). Standard size
# on AV-Deepfake1M++: video-swin-t_8xb8-30e_avdf1mpp.py. Results: docs/results.md.
_base_ = [
    '../_base_/datasets/synthetic_paper.py',
    '../_base_/schedules/adamw-cosine_10e_from-scratch.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleModalityClassifier',
    modality='video',
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(type='VideoSwinTransformer', embed_dim=16, depths=(1, 1, 2, 1),
                  num_heads=(1, 2, 4, 8), drop_path_rate=0.0),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='video/auc',
                    rule='greater'))
