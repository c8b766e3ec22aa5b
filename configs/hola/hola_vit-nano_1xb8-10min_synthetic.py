# Paper-faithful tiny HOLA on the synthetic set: the same architecture and input as the paper
# (16 uniformly sampled frames, MFCC-32 in 16 segments, HiCMAE-style encoders + fusion encoder,
# neck, ICI, LGCF, pyramid refiner, cross-entropy) shrunk to fit 2 CPU cores: `nano` encoders
# (dim 64, depth 2, from scratch, no pre-training), 112 px frames, C = 64.
# CLIP LABELS ONLY (video-level, as the 2025 challenge requires): no segment label is used.
# Measured in docs/hola_model.md; expect near-chance AUC after 10 minutes (see
# ../shared/docs/synthetic_learnability.md), unlike the dense config
# hola-dense_tiny_1xb8-10min_synthetic.py, which uses segment labels.
_base_ = [
    '../_base_/models/hola_vit-base.py',
    '../_base_/datasets/synthetic_paper.py',
    '../_base_/default_runtime.py',
]
hola_dim = 64
model = dict(
    video_encoder=dict(arch='nano', img_size=112, drop_path_rate=0.0),
    audio_encoder=dict(arch='nano', drop_path_rate=0.0),
    fusion_encoder=dict(embed_dim=hola_dim, depth=1, num_heads=4),
    neck=dict(in_channels_video=hola_dim, in_channels_audio=hola_dim, out_channels=hola_dim,
              in_length_video=8 * 7 * 7, in_length_audio=16, out_length=16),
    interaction=dict(dim=hola_dim, num_heads=4),
    fusion=dict(dim=hola_dim, num_layers=1, num_heads=4),
    refiner=dict(dim=hola_dim),
    head=dict(in_channels=hola_dim),
)

max_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
# From scratch: a larger lr than the paper's fine-tuning lr (1.5e-4), with a short warm-up.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.02),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='video/auc',
                    rule='greater'))
