# Nano AV-MAE with the paper's dual masking, pre-trained on the synthetic train clips (labels
# ignored), with encoders shaped exactly like the nano HOLA detector's (dim 64, depth 2, one
# fusion layer), so that every encoder and fusion weight carries over to
# configs/hola/hola_vit-nano_1xb8-10min_synthetic.py. 128 px (8 x 8 patches: the running-cell
# decoder mask needs even h and w); the detector runs at 112 px (7 x 7) and maps the positions.
#   python tools/train.py configs/avmae/avmae_vit-nano-128px_1xb8-30e_synthetic.py
# Measured (pre-training budgets and what fine-tuning gains): configs/avmae/README.md.
_base_ = ['./avmae_vit-nano_1xb4-20e_synthetic.py']

img_size = 128
model = dict(
    video_encoder=dict(img_size=img_size),
    fusion_encoder=dict(depth=1),
)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(pipeline=[
        dict(type='DecordInit'),
        dict(type='SampleClipFrames', clip_len=16, frame_interval=4),
        dict(type='DecordDecode'),
        dict(type='VideoResize', short_side=img_size),
        dict(type='VideoRandomCrop', crop_size=img_size),
        dict(type='VideoFlip', prob=0.5),
        dict(type='AudioDecode', sample_rate=16000, window=2.575),  # the fbank's 2.575 s only
        dict(type='AudioFbank', num_mel_bins=128, target_length=256),
        dict(type='PackAVInputs'),
    ]))

max_epochs = 30
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, eta_min=1e-5, by_epoch=True, begin=2,
         end=max_epochs, convert_to_iter_based=True),
]
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1, save_last=True),
)
