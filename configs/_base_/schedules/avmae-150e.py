# AV-MAE pre-training schedule (HOLA Sec. 3.1.2: AVF-MAE++ base settings): AdamW, betas
# (0.9, 0.95), weight decay 0.05, lr 1.2e-4 x total_batch / 256, 10 warm-up epochs then cosine,
# 150 epochs. No weight decay on norms, biases, q/v biases and mask tokens (HiCMAE's rule: every
# 1-D parameter and the mask tokens). No validation loop (self-supervised).
base_lr = 1.2e-4  # for a total batch of 256; see auto_scale_lr
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=150)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'q_bias': dict(decay_mult=0.0),
            'v_bias': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=140, eta_min=1e-6, by_epoch=True, begin=10, end=150,
         convert_to_iter_based=True),
]
# `tools/train.py --auto-scale-lr` rescales lr by (actual total batch) / 256.
auto_scale_lr = dict(enable=False, base_batch_size=256)
