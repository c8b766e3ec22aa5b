# The five pseudo-label rounds of hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py on their own,
# started from a fine-tuned checkpoint (`load_from`, e.g. the best checkpoint of
# hola_vit-base_8xb8-30e_avdf1mpp.py): epochs 30-55 of that config, with the same rounds, the
# same threshold and the same learning rate (each round restarts the cosine at 20% of the base
# lr). This is the pseudo-label stage of `python tools/recipes/hola.py --scale base`.
#   python tools/train.py configs/hola/hola-pseudo-rounds-5r_vit-base_8xb8-25e_avdf1mpp.py \
#       --cfg-options load_from=work_dirs/hola_vit-base_8xb8-30e_avdf1mpp/best_video_auc_epoch_N.pth
_base_ = ['./hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py']

num_rounds = 5
epochs_per_round = 5
max_epochs = num_rounds * epochs_per_round
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='CosineRestartLR', by_epoch=True, begin=0, end=max_epochs,
         periods=[epochs_per_round] * num_rounds, restart_weights=[0.2] * num_rounds,
         eta_min=0.0),
]
custom_hooks = [
    dict(
        type='PseudoLabelHook',
        num_rounds=num_rounds,
        initial_epochs=0,
        epochs_per_round=epochs_per_round,
        threshold=1.0,  # "confidence exactly 1", in float32
        unlabeled_dataloader=dict(
            batch_size=8,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                         subset='testA', skip_bad_samples=True,
                         pipeline={{_base_.test_pipeline}})),
        train_dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                           subset='testA', skip_bad_samples=False,
                           pipeline={{_base_.train_pipeline}})),
]
