# The face-tracked motion-against-loudness alignment model of
# av-align-envelope-face_tiny_1xb8-10min_synthetic.py with a tolerance of 2 frames (80 ms):
# offsets up to 2 frames count as aligned in training and in scoring, so a source whose mouth
# leads or lags its sound by a frame or two (real recordings and renderers differ here) is not
# called misaligned; an edited word (several frames of another word) still is.
_base_ = ['./av-align-envelope-face_tiny_1xb8-10min_synthetic.py']

model = dict(tolerance=2)
