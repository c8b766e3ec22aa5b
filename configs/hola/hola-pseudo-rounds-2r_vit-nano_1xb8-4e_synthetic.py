# Pseudo-label injection (Sec. 3.3) for the paper-faithful nano HOLA on the synthetic set, as
# rounds on top of a fine-tuned checkpoint (`load_from`): 2 rounds of 2 epochs, each preceded by
# pseudo-labelling the unlabeled synthetic testA. This is the pseudo-label stage of
# `python tools/recipes/hola.py --scale nano`. A nano model trained for minutes is rarely 100%
# sure, so clips with confidence >= 0.9 are taken instead of the paper's exactly 1; the hidden
# testA labels (data_root/hidden_labels/testA_metadata.json) tell how many are right.
_base_ = ['./hola_vit-nano_1xb8-10min_synthetic.py']

num_rounds = 2
epochs_per_round = 2
max_epochs = num_rounds * epochs_per_round
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
# By epoch (the epochs grow with the pseudo-labelled clips); each round restarts the cosine at
# 30% of the base lr.
param_scheduler = [
    dict(type='CosineRestartLR', by_epoch=True, begin=0, end=max_epochs,
         periods=[epochs_per_round] * num_rounds, restart_weights=[0.3] * num_rounds,
         eta_min=1e-5),
]
custom_hooks = [
    dict(
        type='PseudoLabelHook',
        num_rounds=num_rounds,
        initial_epochs=0,
        epochs_per_round=epochs_per_round,
        threshold=0.9,
        unlabeled_dataloader=dict(
            batch_size=8,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                         subset='testA', skip_bad_samples=True,
                         pipeline={{_base_.test_pipeline}})),
        train_dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                           subset='testA', pipeline={{_base_.train_pipeline}})),
]
