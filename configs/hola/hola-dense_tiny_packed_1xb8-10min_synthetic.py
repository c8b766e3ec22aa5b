# hola-dense_tiny_1xb8-10min_synthetic.py trained from a decoded-clip cache instead of the videos:
# every frame of each training clip (48 x 48 mouth crop) and its 16 kHz waveform, and the
# sampled frames and log-mel of each validation clip, decoded once by
#   python tools/data/pack_clips.py configs/hola/hola-dense_tiny_packed_1xb8-10min_synthetic.py \
#       data/packed/hola-dense_tiny/train --split train --workers 2
#   python tools/data/pack_clips.py configs/hola/hola-dense_tiny_packed_1xb8-10min_synthetic.py \
#       data/packed/hola-dense_tiny/val --split val --workers 2
# and read through memory maps. The window sampling (half of the windows centred on a fake
# segment), the per-window log-mel and the frame labels still run on every read, exactly as on
# the videos: the same seed gives the same batches. ShardSampler gives each rank whole shards
# under DDP. The test set is read from the videos. See docs/data.md ("Decoded-clip cache").
# USES SEGMENT LABELS, as the config it is based on.
_base_ = ['./hola-dense_tiny_1xb8-10min_synthetic.py']
pack_root = 'data/packed/hola-dense_tiny'
train_dataloader = dict(
    sampler=dict(type='ShardSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='PackedClipDataset',
        pack_dir=pack_root + '/train',
        source=dict(type='AVDeepfake1MDataset', data_root={{_base_.data_root}}, subset='train'),
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PackedClipDataset',
        pack_dir=pack_root + '/val',
        source=dict(type='AVDeepfake1MDataset', data_root={{_base_.data_root}}, subset='val'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
