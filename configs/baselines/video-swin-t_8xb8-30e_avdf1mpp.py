# Video Swin-T (Liu et al., CVPR 2022), the Table 1 video expert, at its standard size (27.9 M
# parameters) with a two-class head, from random weights, on HOLA's video input (16 uniformly
# sampled frames at 224 px); the schedule and batch of the HOLA configs (AdamW, lr 1.5e-4,
# cosine, 30 epochs, 8 GPUs x 8 clips), video-level labels only.
_base_ = [
    '../_base_/datasets/avdf1mpp_paper.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleModalityClassifier',
    modality='video',
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(type='VideoSwinTransformer', embed_dim=96, depths=(2, 2, 6, 2),
                  num_heads=(3, 6, 12, 24), window_size=(8, 7, 7)),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
