# Pseudo-supervised signal injection (Sec. 3.3) on top of the paper's HOLA (Sec. 4.1.1), Table 3
# last row: hola-nopseudo_vit-base_8xb8-55e_avdf1mpp.py (30 epochs, then 5 rounds of 5 epochs)
# plus the PseudoLabelHook and nothing else. Before each round the model predicts the unlabeled
# testA subset; every clip whose predicted confidence for either class is exactly 1 (float32
# probability 1.0) joins the training set with its predicted label, and training continues.
# Per-round counts, changes and val AUC are logged; work_dir/pseudo_labels/round_<r>.jsonl keeps
# every round's labels; --resume continues the same round with the same pseudo-label set.
_base_ = ['./hola-nopseudo_vit-base_8xb8-55e_avdf1mpp.py']

custom_hooks = [
    dict(
        type='PseudoLabelHook',
        num_rounds={{_base_.num_rounds}},
        initial_epochs={{_base_.initial_epochs}},
        epochs_per_round={{_base_.epochs_per_round}},
        threshold=1.0,  # "confidence exactly 1", in float32
        unlabeled_dataloader=dict(
            batch_size=8,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            # An unreadable clip is skipped (recorded in bad_samples.txt), never pseudo-labelled.
            dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                         subset='testA', skip_bad_samples=True,
                         pipeline={{_base_.test_pipeline}})),
        train_dataset=dict(type='AVDeepfake1MTestDataset', data_root={{_base_.data_root}},
                           subset='testA', skip_bad_samples=False,
                           pipeline={{_base_.train_pipeline}})),
]
