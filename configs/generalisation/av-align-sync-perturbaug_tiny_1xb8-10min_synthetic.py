# av-align-sync_tiny_1xb8-10min_synthetic.py trained with the robustness protocol's perturbations
# as augmentation (as configs/hola/hola-dense-perturbaug_tiny_1xb8-10min_synthetic.py does for
# the dense demo): half of the training clips get one of the eleven perturbations
# (DeeperForensics-1.0's seven video distortions, AuViRe's four audio ones) at a level drawn
# from 1..5, right after decoding, so the alignment is learnt through compression, noise, blur
# and colour changes that differ from one source to the next. Validation and test stay clean.
_base_ = ['./av-align-sync_tiny_1xb8-10min_synthetic.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='WithPerturbation', pipeline={{_base_.train_pipeline}},
         perturbation=dict(type='RandomPerturbation', prob=0.5, levels='1-5'))
]))
