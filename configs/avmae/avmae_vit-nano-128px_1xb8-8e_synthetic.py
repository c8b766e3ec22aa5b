# avmae_vit-nano-128px_1xb8-30e_synthetic.py with an 8-epoch budget (1 warm-up epoch, cosine to
# 8): the pre-training stage of `python tools/recipes/hola.py --scale nano` (the whole nano
# recipe fits in 20 minutes on 2 CPU cores) and the short budget of the pre-training comparison
# in configs/hola/README.md.
#   python tools/train.py configs/avmae/avmae_vit-nano-128px_1xb8-8e_synthetic.py
_base_ = ['./avmae_vit-nano-128px_1xb8-30e_synthetic.py']

max_epochs = 8
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5, by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=4, max_keep_ckpts=1,
                                     save_last=True))
