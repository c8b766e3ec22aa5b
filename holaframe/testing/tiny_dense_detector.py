"""A tiny dense detector (frame-level auxiliary head) for tests of the frame timeline.

The model is the dense demo model of ``configs/_base_/models/hola-dense_tiny.py`` (every frame,
mouth crop + frame difference -> ``FrameConvStem``, per-frame log-mel -> ``FrameAudioEncoder``,
ICI, LGCF, refiner, ``ClsHead`` and ``FrameAuxHead``) at half its width, with random weights:
its per-frame scores are meaningless but have the shape and timing of a trained model's, so the
service's timeline, segments and page can be tested in seconds.
"""

import os.path as osp
from typing import List, Tuple

import torch
from mmengine.config import Config

#: Frames of the scored window (2.56 s at 25 fps).
CLIP_LEN = 64
DIM = 32


def tiny_dense_pipeline() -> List[dict]:
    """The dense test pipeline: a ``CLIP_LEN``-frame window, 48 px mouth crop, frame log-mel."""
    return [
        dict(type='DecordInit'),
        dict(type='DenseSampleFrames', clip_len=CLIP_LEN, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=48),
        dict(type='AudioDecode', sample_rate=16000),
        dict(type='AudioFrameLogMel', n_mels=40, group=4),
        dict(type='PackAVInputs'),
    ]


def tiny_dense_model() -> dict:
    """The model config (the dense demo model at ``DIM`` channels)."""
    return dict(
        type='HOLADetector',
        data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3),
        video_encoder=dict(type='FrameConvStem', embed_dim=DIM, stage_channels=(8, 8, 16, 32),
                           use_frame_diff=True),
        audio_encoder=dict(type='FrameAudioEncoder', in_channels=160, embed_dim=DIM),
        neck=dict(type='TemporalAlignmentNeck', in_channels_video=DIM, in_channels_audio=DIM,
                  out_channels=DIM, in_length_video=None, in_length_audio=None,
                  out_length=None, add_pos_embed=False),
        interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_layers=1,
                         num_heads=4, rel_pos_distance=8),
        fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4,
                    rel_pos_distance=8),
        refiner=dict(type='PyramidRefiner', dim=DIM),
        head=dict(type='ClsHead', in_channels=DIM, window_label=True),
        aux_head=dict(type='FrameAuxHead', in_channels=DIM, hidden_channels=DIM,
                      sync_offsets=4, sync_source='aligned', dilations=(1, 2),
                      pooling=dict(type='TopKFramePooling', k=3), window_label=True),
        predict_source='head')


def write_tiny_dense_detector(work_dir: str) -> Tuple[str, str]:
    """Write ``tiny_dense.py`` and ``tiny_dense.pth`` (random weights, seed 0) to ``work_dir``.

    Returns:
        tuple[str, str]: Paths of the config file and the checkpoint.
    """
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config(dict(default_scope='holaframe', model=tiny_dense_model(),
                      test_pipeline=tiny_dense_pipeline()))
    cfg_path = osp.join(work_dir, 'tiny_dense.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt_path = osp.join(work_dir, 'tiny_dense.pth')
    torch.save(dict(meta=dict(epoch=0), state_dict=model.state_dict()), ckpt_path)
    return cfg_path, ckpt_path
