# TimeSformer (Bertasius et al., ICML 2021, divided space-time attention, ViT-B/16), the Table 1
# video expert, at its standard size with a two-class head, from random weights, on HOLA's video
# input (16 uniformly sampled frames at 224 px: the temporal embedding has 16 positions instead of
# the paper's 8, 6 K parameters more; 121.2 M in all); the schedule and batch of the HOLA configs
# (AdamW, lr 1.5e-4, cosine, 30 epochs, 8 GPUs x 8 clips), video-level labels only.
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
    backbone=dict(type='TimeSformer', img_size=224, num_frames=16, embed_dim=768,
                  depth=12, num_heads=12),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
