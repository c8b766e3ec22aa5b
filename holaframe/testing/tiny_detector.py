"""A tiny HOLA detector config on the synthetic data, and a checkpoint of it (test helper)."""

import os.path as osp

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

T, SIZE, DIM = 4, 32, 32


def tiny_pipeline(test_mode=True):
    return [
        dict(type='DecordInit'),
        dict(type='UniformSampleFrames', num_frames=T, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='VideoResize', short_side=SIZE),
        dict(type='VideoCenterCrop', crop_size=SIZE),
        dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
        dict(type='AudioMFCCSegments', n_mfcc=32),
        dict(type='PackAVInputs'),
    ]


def tiny_model():
    return dict(
        type='HOLADetector',
        video_encoder=dict(type='VideoViTEncoder', arch='nano', img_size=SIZE, num_frames=T),
        audio_encoder=dict(type='AudioViTEncoder', arch='nano', input_type='mfcc',
                           num_segments=T),
        neck=dict(type='TemporalAlignmentNeck', in_channels_video=64, in_channels_audio=64,
                  out_channels=DIM, in_length_video=(T // 2) * 4, in_length_audio=T,
                  out_length=8),
        interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_heads=4),
        fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4),
        refiner=dict(type='PyramidRefiner', dim=DIM),
        head=dict(type='ClsHead', in_channels=DIM),
        data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3))


def tiny_config(data_root, subset='testA'):
    """A test config: the tiny model, testA (unlabeled) or val (labeled) as test set."""
    if subset in ('train', 'val'):
        dataset = dict(type='AVDeepfake1MDataset', data_root=data_root, subset=subset,
                       test_mode=True, pipeline=tiny_pipeline())
    else:
        dataset = dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset=subset,
                       pipeline=tiny_pipeline())
    return Config(dict(
        default_scope='holaframe',
        model=tiny_model(),
        test_dataloader=dict(batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dataset),
        test_evaluator=[dict(type='VideoMetric')],
        test_cfg=dict(),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING',
    ))


def write_tiny_detector(work_dir, data_root, subset='testA'):
    """Write the config file and an MMEngine-style checkpoint (message hub included)."""
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = tiny_config(data_root, subset)
    cfg_path = osp.join(work_dir, 'tiny_hola.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    hub = MessageHub(name=f'tiny_{osp.basename(work_dir)}')
    hub.update_scalar('train/loss', 0.5)
    ckpt_path = osp.join(work_dir, 'tiny_hola.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict(),
                    message_hub=hub.state_dict()), ckpt_path)
    return cfg_path, ckpt_path
