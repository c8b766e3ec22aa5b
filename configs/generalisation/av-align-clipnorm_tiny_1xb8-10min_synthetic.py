# av-align-sync-perturbaug_tiny_1xb8-10min_synthetic.py with the video stem normalised per clip
# instead of by BatchNorm's running statistics (FrameConvStem(norm='clip')): each channel of
# each stage is standardised over the clip's own frames and pixels, so what it passes on is how
# it changes within the clip, not its level. A source whose texture, sharpness or noise drives
# the channels harder than the training data's did no longer shifts every token.
_base_ = ['./av-align-sync-perturbaug_tiny_1xb8-10min_synthetic.py']

model = dict(video_encoder=dict(norm='clip'))
