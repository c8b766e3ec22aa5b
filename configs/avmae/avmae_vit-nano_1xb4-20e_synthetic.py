# Tiny AV-MAE pre-training that runs on 2 CPU cores: 'nano' encoders, 64x64 frames, the paper's
# dual masking, on the unlabeled clips of the synthetic dataset
# (python tools/data/make_synthetic_avdf.py data/synthetic_avdf).
#   python tools/train.py configs/avmae/avmae_vit-nano_1xb4-20e_synthetic.py
_base_ = [
    '../_base_/models/avmae_vit-nano.py',
    '../_base_/datasets/synthetic_pretrain.py',
    '../_base_/schedules/avmae-150e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(num_workers=1, persistent_workers=False)

# A short schedule with a larger lr for a small batch: 1 warm-up epoch, cosine to 20 epochs.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=19, eta_min=1e-5, by_epoch=True, begin=1, end=20,
         convert_to_iter_based=True),
]
auto_scale_lr = dict(enable=False, base_batch_size=4)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2, save_last=True),
)
