# The dense demo (configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py) with the mouth cut from
# the tracked face (FaceTrackCrop, dlib's HOG detector on 8 keyframes, then the lower middle of
# the face square) instead of the fixed box (0.25, 0.45, 0.75, 0.95) of the frame: a face that
# sits off-centre, drifts or sways keeps its mouth in the same place of the crop.
_base_ = ['../hola/hola-dense_tiny_1xb8-10min_synthetic.py']

face_mouth = [
    dict(type='FaceTrackCrop'),
    dict(type='MouthCrop', box=(0.25, 0.55, 0.75, 0.95), size=48),
]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=64, fake_centred_prob=0.5),
    dict(type='DecordDecode'),
    *face_mouth,
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=160, test_mode=True),
    dict(type='DecordDecode'),
    *face_mouth,
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(pipeline=[t for t in test_pipeline if t['type'] != 'FrameFakeMask']))
