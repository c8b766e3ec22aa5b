# Control row for pseudo-label injection: hola_vit-base_8xb8-30e_avdf1mpp.py trained for the same
# 55 epochs and with the same schedule as hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py, without
# pseudo-labels. The two configs differ only in the PseudoLabelHook, so the difference between
# their results is what the pseudo-labels contribute (not the 25 extra epochs).
# Schedule: 30 epochs, then 5 rounds of 5 epochs, each restarting the cosine at 20% of the base
# lr (the paper does not give the length of a round); CosineRestartLR by epoch.
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
