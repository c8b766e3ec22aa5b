# The real-only alignment model reduced to timing on both sides: the mouth's motion (grey frames
# minus the clip's mean image, AVAlignmentDetector(video_norm='temporal')) against the loudness
# envelope of the speech (the per-frame log-mel averaged over its 40 bands, 4 values per frame,
# standardised per clip: audio_envelope_bands=40). Neither the face nor the voice, room or
# speech synthesiser of a generator reaches the model, only when the mouth moves and when the
# sound is loud.
_base_ = ['./av-align-motion_tiny_1xb8-10min_synthetic.py']

model = dict(
    audio_encoder=dict(in_channels=4),
    audio_envelope_bands=40)
