# av-align-clipnorm-camaug_tiny_1xb8-10min_synthetic.py with the speech reduced to 8 coarse bands
# per log-mel frame (the 40 mel bands averaged in groups of 5; 4 x 8 values per video frame,
# standardised over the clip) instead of its loudness alone: where the energy sits in frequency
# (the first formant rises as the mouth opens) carries the articulation that a mouth driven by
# phones follows, while a band resolution this coarse keeps out most of a voice's or a
# synthesiser's fine spectral detail.
_base_ = ['./av-align-clipnorm-camaug_tiny_1xb8-10min_synthetic.py']

model = dict(audio_encoder=dict(in_channels=32), audio_envelope_bands=5)
