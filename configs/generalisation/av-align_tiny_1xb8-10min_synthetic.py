# Audio-visual alignment learnt from real clips only (AVHAlign-style, docs/generalisation.md):
# the dense demo's encoders (FrameConvStem on 48 px mouth crops, FrameAudioEncoder on per-frame
# log-mel) with temporal convolutions, trained with InfoNCE between each frame and the other
# modality's frames at offsets -8..8 of the same clip. Fakes are never a training signal (the
# labels only pick the real clips), so nothing specific to a forgery generator can be learnt; a
# clip is scored by its largest local misalignment relative to its own median.
_base_ = ['../hola/hola-dense_tiny_1xb8-10min_synthetic.py']

model = dict(
    _delete_=True,
    type='AVAlignmentDetector',
    # The dense demo's preprocessing and encoders.
    data_preprocessor={{_base_.model.data_preprocessor}},
    video_encoder={{_base_.model.video_encoder}},
    audio_encoder={{_base_.model.audio_encoder}},
    embed_dim=64, proj_dim=64, context_layers=2, kernel_size=5, max_offset=8,
    temperature=0.1, smooth=5, relative=True, margin=2.0)

# No frame labels: the fake segments are never read.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=64),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=48),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=160, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=48),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
custom_hooks = []
