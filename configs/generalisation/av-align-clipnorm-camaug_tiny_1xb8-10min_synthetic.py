# av-align-clipnorm_tiny_1xb8-10min_synthetic.py trained with random head and camera motion
# and skin texture on the mouth crops (VideoRandomCameraMotion: sway, drift, zoom and tracking
# jitter of a few pixels and degrees, a texture that moves with the face; 80% of the training
# clips). A source of still, flat-coloured faces teaches an encoder that every change in the
# crop is the mouth; this shows it the motion and texture of in-the-wild faces, so that it
# learns to read the mouth through them. Validation and test stay as they are.
_base_ = ['./av-align-clipnorm_tiny_1xb8-10min_synthetic.py']

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=64),
    dict(type='DecordDecode'),
    dict(type='FaceTrackCrop'),
    dict(type='MouthCrop', box=(0.25, 0.55, 0.75, 0.95), size=48),
    dict(type='VideoRandomCameraMotion', prob=0.8),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='WithPerturbation', pipeline=train_pipeline,
         perturbation=dict(type='RandomPerturbation', prob=0.5, levels='1-5'))
]))
