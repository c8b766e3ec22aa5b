# Temporal localisation (Track 2) at paper scale on AV-Deepfake1M++: the HOLA model of
# configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py (HiCMAE-B encoders from the AV-MAE pre-trained
# weights, fusion encoder, neck, ICI, LGCF, pyramid refiner, ClsHead) with a LocalizationHead on
# the fused per-position features, trained jointly with the clip classifier (AdamW, lr 1.5e-4,
# cosine, 30 epochs, 8 GPUs x 8 windows).
# Where the detection config samples 16 frames spread over the whole video, localisation needs
# one position per frame: windows of 16 CONSECUTIVE frames at 25 fps (0.64 s, half of the
# training windows centred on a fake segment; MFCC segments aligned with the frames, L = 16
# positions = 16 frames). The clip head learns the window's label (fake iff it holds fake
# frames). At test time every frame is decoded and the model slides 16-frame windows every
# 8 frames over the whole video (max window score = detection score; stitched frame scores
# -> SegmentPostProcessor -> at most 100 proposals per video).
# USES SEGMENT LABELS (fake_segments -> frame_labels and loc_targets), as Track 2 does.
# Not trained here (needs the data set and GPUs); see docs/localization.md.
_base_ = ['../hola/hola_vit-base_8xb8-30e_avdf1mpp.py']

clip_len = 16
img_size = 224
model = dict(
    head=dict(type='ClsHead', in_channels=512, window_label=True),
    loc_head=dict(type='LocalizationHead', in_channels=512, hidden_channels=256,
                  dilations=(1, 2, 4), sync_offsets=4, sync_source='aligned',
                  cls_loss_weight=1.0, reg_loss_weight=1.0),
    post_processor=dict(type='SegmentPostProcessor', nms='soft', sigma=0.5, max_per_video=100,
                        mask_threshold=0.5),
    test_window=dict(clip_len=clip_len, stride=clip_len // 2, max_batch=32, video_score='max'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=clip_len, fake_centred_prob=0.5),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoRandomCrop', crop_size=img_size),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='SegmentTargets'),
    dict(type='PackAVInputs'),
]
# Every frame of the video (a clip shorter than one window repeats its last frame).
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='WholeVideoSampleFrames', min_len=clip_len),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoCenterCrop', crop_size=img_size),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='SegmentTargets'),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Whole videos differ in length: one video per batch.
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    dataset=dict(pipeline=[t for t in test_pipeline if t['type'] != 'SegmentTargets']))
