# HOLA's fusion components (ICI, LGCF, pyramid refiner) on a dense, mouth-focused front end:
# every frame at 25 fps -> FrameConvStem on the mouth crop (+ frame difference), per-video-frame
# log-mel -> FrameAudioEncoder, a frame-level auxiliary head with top-k pooling.
# OPT-IN, NOT THE PAPER: the auxiliary head is trained on per-frame fake masks (`frame_labels`),
# and both heads learn the label of the sampled window (derived from `frame_labels`), i.e.
# SEGMENT LABELS, which the 2025 challenge's video-level rule does not allow. See
# docs/hola_model.md for why it exists and what each part contributes.

model = dict(
    type='HOLADetector',
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0]),
    video_encoder=dict(type='FrameConvStem', embed_dim=64, stage_channels=(8, 16, 32, 64),
                       use_frame_diff=True),
    # 4 log-mel frames x 40 bands per video frame (AudioFrameLogMel, reduce='stack').
    audio_encoder=dict(type='FrameAudioEncoder', in_channels=160, embed_dim=64),
    # Variable-length mode: both streams are already one token per frame. No position table:
    # the same table added to both streams would dominate the audio-visual cosine similarities
    # of the auxiliary head early in training (measured: val AUC 0.54 with it, 0.60 without,
    # after 2 epochs); the convolutions give the streams their local temporal context.
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=64, in_channels_audio=64,
              out_channels=64, in_length_video=None, in_length_audio=None, out_length=None,
              add_pos_embed=False),
    # Without positions in the token values, ICI's cross-attention and LGCF's self-attention
    # need a relative time-position bias to compare audio and video at the same time step
    # (position-blind, the HOLA head stays at chance: docs/hola_model.md, "Diagnosis").
    interaction=dict(type='IterativeCrossModalInteraction', dim=64, num_layers=3, num_heads=4,
                     rel_pos_distance=8),
    fusion=dict(type='LocalGlobalContextualFusion', dim=64, num_layers=1, num_heads=4,
                rel_pos_distance=8),
    refiner=dict(type='PyramidRefiner', dim=64),
    # Trained on the window's label: a 64-frame window of a fake clip that misses the fake
    # segment is real.
    head=dict(type='ClsHead', in_channels=64, window_label=True),
    # Sync features (cosine similarity at +-4 frames) from the neck outputs, before ICI/LGCF.
    aux_head=dict(type='FrameAuxHead', in_channels=64, hidden_channels=64, sync_offsets=4,
                  sync_source='aligned', dilations=(1, 2, 4),
                  pooling=dict(type='TopKFramePooling', k=3), window_label=True),
    # The clip score is the HOLA classification head's (neck -> ICI -> LGCF -> refiner -> head);
    # 'aux' (the frame head's top-k pooled score) and 'mean' are evaluation options.
    predict_source='head')
