# The real-only alignment model of av-align_tiny_1xb8-10min_synthetic.py with the video reduced
# to motion: grey frames minus the clip's mean image, scaled by the clip's standard deviation
# (AVAlignmentDetector(video_norm='temporal')), so the video encoder sees how the mouth moves and
# not what the face looks like, which differs from one generator (renderer) to the next.
_base_ = ['./av-align_tiny_1xb8-10min_synthetic.py']

model = dict(
    video_encoder=dict(in_channels=1),
    video_norm='temporal')
