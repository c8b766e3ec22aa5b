"""HOLA fine-tuning from AVF-MAE++ weights: configs/hola/hola_avfmae-base_8xb8-30e_avdf1mpp.py,
shrunk to the tiny AVF-MAE++ model that AVF-MAE++'s own code wrote into
tests/data/avfmae_tiny_golden.pt, starts from the converted weights (positions and region tokens
mapped to its grids), trains one step and evaluates."""

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.engine.runner import build_runner, load_config
from holaframe.models.layers import map_region_tokens, map_sinusoid_table
from holaframe.registry import MODELS
from holaframe.testing.scripts import load_script
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / 'tests' / 'data' / 'avfmae_tiny_golden.pt'
HOLA_CFG = REPO / 'configs' / 'hola' / 'hola_avfmae-base_8xb8-30e_avdf1mpp.py'
# The synthetic-data loaders of the paper-input nano config: 16 frames at 112 px, MFCC-32 x 16.
SYNTHETIC_CFG = REPO / 'configs' / 'hola' / 'hola_vit-nano_1xb8-10min_synthetic.py'


def _converter():
    return load_script(REPO / 'tools' / 'model_converters' / 'avfmae2holaframe.py')


def _options(golden):
    """The HOLA config at the fixture's encoder size (dim 16, depth 2), 112 px frames and a small
    head (C = 16)."""
    kw = golden['constructor']['pretrain']['kwargs']
    size = dict(embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_depth'],
                num_heads=kw['encoder_num_heads'])
    dim = kw['encoder_embed_dim']
    return {
        **{f'model.{enc}.{k}': v for enc in ('video_encoder', 'audio_encoder')
           for k, v in size.items()},
        'model.video_encoder.img_size': 112, 'model.video_encoder.region_size': (2, 7, 7),
        'model.fusion_encoder.embed_dim': dim, 'model.fusion_encoder.depth': 2,
        'model.fusion_encoder.num_heads': 2, 'model.neck.in_channels_video': dim,
        'model.neck.in_channels_audio': dim, 'model.neck.in_length_video': 8 * 7 * 7,
        'model.neck.out_channels': 16, 'model.interaction.dim': 16,
        'model.interaction.num_heads': 2, 'model.fusion.dim': 16, 'model.fusion.num_heads': 2,
        'model.refiner.dim': 16, 'model.head.in_channels': 16,
    }


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The fixture's AVF-MAE++ checkpoint, converted and checked against the tiny config."""
    golden = torch.load(FIXTURE, map_location='cpu', weights_only=True)
    folder = tmp_path_factory.mktemp('avfmae_hola')
    torch.save(golden['pretrain_state_dict'], folder / 'checkpoint-0.pth')
    dst = folder / 'avfmae-tiny_holaframe.pth'
    _converter().convert_checkpoint(str(folder / 'checkpoint-0.pth'), str(dst),
                                    config=str(HOLA_CFG), cfg_options=_options(golden))
    return str(dst), golden


def _config(checkpoint, golden, data_root, work_dir):
    cfg = load_config(str(HOLA_CFG), dict(_options(golden), pretrained=checkpoint),
                      work_dir=str(work_dir))
    synthetic = Config.fromfile(str(SYNTHETIC_CFG))
    for key in ('train_dataloader', 'val_dataloader'):
        loader = copy.deepcopy(synthetic[key])
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = data_root
        cfg[key] = loader
    cfg.train_dataloader.dataset.indices = 2  # one step of two clips
    cfg.val_evaluator = synthetic.val_evaluator
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.log_level = 'WARNING'
    return cfg


def test_detector_starts_from_the_converted_weights(converted, synthetic_avdf_root, tmp_path):
    checkpoint, golden = converted
    register_all_modules(init_default_scope=True)
    cfg = _config(checkpoint, golden, synthetic_avdf_root, tmp_path)
    detector = MODELS.build(copy.deepcopy(cfg.model))
    detector.init_weights()
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    loaded = detector.state_dict()
    compared = 0
    for key, value in loaded.items():
        if key.startswith(('video_encoder.blocks.', 'audio_encoder.blocks.', 'fusion_encoder.')):
            assert torch.equal(value, state[key]), key
            compared += 1
    assert compared > 300
    assert torch.equal(loaded['video_encoder.patch_embed.proj.weight'],
                       state['video_encoder.patch_embed.proj.weight'])
    # Pre-trained at 32 px (token grid 8 x 2 x 2, regions 4 x 2 x 1), fine-tuned at 112 px
    # (8 x 7 x 7, regions 4 x 1 x 1): positions and region tokens are mapped.
    video = detector.video_encoder
    assert video.pos_grid.tolist() == [8, 2, 2] and video.grid_size == (8, 7, 7)
    torch.testing.assert_close(video.pos_embed, map_sinusoid_table((8, 2, 2), (8, 7, 7), 16))
    torch.testing.assert_close(
        video.regions.region_tokens,
        map_region_tokens(state['video_encoder.regions.region_tokens'], (4, 2, 1), (4, 1, 1)))
    assert video.regions.region_grid.tolist() == [4, 1, 1]
    # MFCC segments: 8 regions of 2 from the fbank's 4 x 2 regions; the fbank patch embedding
    # (a Conv2d) is not transferable to the MFCC embedding (a Linear).
    audio = detector.audio_encoder
    torch.testing.assert_close(
        audio.regions.region_tokens,
        map_region_tokens(state['audio_encoder.regions.region_tokens'], (4, 2), (8, )))
    assert audio.patch_embed.proj.weight.shape == (16, 32)


def test_trains_one_step_and_evaluates(converted, synthetic_avdf_root, tmp_path):
    checkpoint, golden = converted
    register_all_modules(init_default_scope=False)
    cfg = _config(checkpoint, golden, synthetic_avdf_root, tmp_path / 'work')
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 1
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    key = 'fusion_encoder.blocks.0.lv1.weight'
    assert not torch.equal(runner.model.state_dict()[key], state[key])  # one optimizer step
    metrics = runner.val_loop.run()
    assert 0.0 <= metrics['video/auc'] <= 1.0
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
