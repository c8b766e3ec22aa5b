# The face-tracked motion-against-loudness alignment model of
# av-align-envelope-face_tiny_1xb8-10min_synthetic.py, scored at each clip's own audio-visual
# lag: the lag (up to 2 frames, 80 ms, either way) that agrees best over the whole clip is found
# first, as SyncNet does, and the local disagreement is measured there. Training is unchanged
# (lag 0); a source whose mouth runs a frame ahead of its sound is no longer called misaligned
# everywhere, while an edited word still disagrees at any lag.
_base_ = ['./av-align-envelope-face_tiny_1xb8-10min_synthetic.py']

model = dict(sync_search=2)
