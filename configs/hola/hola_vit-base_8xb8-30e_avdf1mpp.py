# The paper's model (Sec. 3.2, 4.1.1) on AV-Deepfake1M++: HiCMAE-B encoders, 16 frames at 224,
# MFCC audio, ICI + LGCF + pyramid refiner, cross-entropy; AdamW (weight decay 0.02), lr 1.5e-4,
# cosine schedule, 30 epochs, batch 8 per GPU x 8 GPUs = 64. Video-level labels only.
# Table 3 ablation rows: hola-{baseline,ici,ici-lgcf}_vit-base_8xb8-30e_avdf1mpp.py
# (this file is the last row, "+ Pyramid refiner").
_base_ = [
    '../_base_/models/hola_vit-base.py',
    '../_base_/datasets/avdf1mpp_paper.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=8)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='video/auc',
                    rule='greater'))
