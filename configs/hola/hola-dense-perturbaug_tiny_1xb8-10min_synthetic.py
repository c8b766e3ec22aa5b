# The synthetic HOLA demo (hola-dense_tiny_1xb8-10min_synthetic.py, inherited unchanged: model,
# data, schedule, hooks) trained with the robustness protocol's perturbations as augmentation:
# half of the training clips get one of the eleven perturbations (DeeperForensics-1.0's seven
# video distortions, AuViRe's four audio ones) at a level drawn from 1..5
# (`RandomPerturbation`). `WithPerturbation` wraps the demo's training pipeline and puts the
# draw right after decoding (video perturbations on the whole decoded frames, before the mouth
# crop; audio ones on the waveform), so the pipeline is inherited, not copied. Validation and
# test stay clean. Measure the effect with tools/analysis_tools/robustness.py on this config
# and on the demo (docs/robustness.md).
_base_ = ['./hola-dense_tiny_1xb8-10min_synthetic.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='WithPerturbation', pipeline={{_base_.train_pipeline}},
         perturbation=dict(type='RandomPerturbation', prob=0.5, levels='1-5'))
]))
