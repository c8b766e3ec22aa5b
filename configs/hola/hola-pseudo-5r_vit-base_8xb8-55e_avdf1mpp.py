# Pseudo-supervised signal injection (Sec. 3.3) on top of the paper's HOLA (Sec. 4.1.1):
# stage 0 = the paper's 30-epoch fine-tuning on the labeled train set; then R = 5 rounds. Before
# each round the model predicts the unlabeled testA subset, every clip whose predicted confidence
# for either class is exactly 1 (float32 probability 1.0) joins the training set with its
# predicted label, and training continues. The paper does not give the length of a round: we use
# 5 epochs per round, each restarting the cosine schedule at 20% of the base lr (CosineRestartLR
# by epoch, since the epochs grow with the pseudo-labelled clips). 30 + 5 x 5 = 55 epochs.
# Per-round counts, changes and val AUC are logged; work_dir/pseudo_labels/round_<r>.jsonl keeps
# every round's labels; --resume continues the same round with the same pseudo-label set.
_base_ = ['./hola_vit-base_8xb8-30e_avdf1mpp.py']

num_rounds = 5
initial_epochs = 30
epochs_per_round = 5
max_epochs = initial_epochs + num_rounds * epochs_per_round

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='CosineRestartLR', by_epoch=True, begin=0, end=max_epochs,
         periods=[initial_epochs] + [epochs_per_round] * num_rounds,
         restart_weights=[1.0] + [0.2] * num_rounds, eta_min=0.0),
]

unlabeled_subset = dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                        subset='testA')
custom_hooks = [
    dict(
        type='PseudoLabelHook',
        num_rounds=num_rounds,
        initial_epochs=initial_epochs,
        epochs_per_round=epochs_per_round,
        threshold=1.0,  # "confidence exactly 1", in float32
        unlabeled_dataloader=dict(
            batch_size=8,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            # An unreadable clip is skipped (recorded in bad_samples.txt), never pseudo-labelled.
            dataset=dict(unlabeled_subset, skip_bad_samples=True,
                         pipeline={{_base_.test_pipeline}})),
        train_dataset=dict(unlabeled_subset, skip_bad_samples=False,
                           pipeline={{_base_.train_pipeline}})),
]
