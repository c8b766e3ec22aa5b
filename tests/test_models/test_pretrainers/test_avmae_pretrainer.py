"""AVMAEPretrainer: Eq. (5)-(7) with and without dual masking, gradients, modes."""

import copy

import pytest
import torch

from holaframe.models.losses import audio_reconstruction_targets, video_reconstruction_targets
from holaframe.registry import MODELS
from holaframe.utils import register_all_modules

ENC = dict(arch=dict(embed_dim=32, depth=4, num_heads=4, mlp_ratio=2.))
TINY = dict(
    type='AVMAEPretrainer',
    video_encoder=dict(type='VideoViTEncoder', img_size=32, num_frames=16, **ENC),
    audio_encoder=dict(type='AudioViTEncoder', spec_size=(256, 128), **ENC),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=32, depth=2, num_heads=4,
                        mlp_ratio=2.),
    video_decoder=dict(type='AVMAEDecoder', embed_dim=16, depth=4, num_heads=2, mlp_ratio=2.),
    audio_decoder=dict(type='AVMAEDecoder', embed_dim=16, depth=4, num_heads=2, mlp_ratio=2.),
    video_masker=dict(type='TubeMasker', mask_ratio=0.9),
    audio_masker=dict(type='RandomMasker', mask_ratio=0.8),
    video_decoder_masker=dict(type='RunningCellMasker', mask_ratio=0.5),
    audio_decoder_masker=dict(type='RandomMasker', mask_ratio=0.5),
    skip_indices=(0, 2, 3),
    loss_contrastive=dict(type='HierarchicalContrastiveLoss'),
    video_target=dict(frame_diff=True))


def build(dual: bool = True, **overrides):
    register_all_modules(init_default_scope=False)
    cfg = copy.deepcopy(TINY)
    if not dual:
        cfg.update(video_decoder_masker=None, audio_decoder_masker=None)
    cfg.update(overrides)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(B: int = 2):
    g = torch.Generator().manual_seed(1)
    return dict(video=torch.randn(B, 3, 16, 32, 32, generator=g),
                audio=torch.randn(B, 1, 256, 128, generator=g))


def test_dual_masking_decodes_encoder_masked_and_decoder_kept_positions():
    model = build(dual=True).eval()
    seen = {}

    def hook(module, args):
        seen['video_in'] = tuple(args[0].shape)

    model.video_decoder.register_forward_pre_hook(hook)
    with torch.no_grad():
        out = model(batch(3), mode='tensor')
    for mod, n_masked, n_visible in (('video', 24, 8), ('audio', 102, 26)):
        enc, dec, decode = out[f'{mod}_mask'], out[f'{mod}_decoder_mask'], out[f'{mod}_decode']
        assert (enc.sum(1) == n_masked).all() and ((~enc).sum(1) == n_visible).all()
        # Eq. (5)-(6): decoded = M_en ∩ M_de (M_de = positions the decoder keeps).
        assert torch.equal(decode, enc & ~dec)
        assert not (decode & ~enc).any() and not (decode & dec).any()
        n_dec = n_masked - int(0.5 * n_masked)
        assert out[f'{mod}_recon'].shape[:2] == (3, n_dec)
    assert out['video_recon'].shape[-1] == 3 * 2 * 16 * 16
    assert out['audio_recon'].shape[-1] == 256
    # Decoder input = 8 visible tokens + 12 mask tokens, not all 32 positions.
    assert tuple(seen['video_in']) == (3, 8 + 12, 16)


def test_without_dual_masking_every_masked_token_is_decoded():
    model = build(dual=False).eval()
    assert not model.dual_masking
    with torch.no_grad():
        out = model(batch(), mode='tensor')
    assert torch.equal(out['video_decode'], out['video_mask'])
    assert out['video_recon'].shape[:2] == (2, 24)
    assert out['audio_recon'].shape[:2] == (2, 102)


def test_loss_is_eq6_on_the_decoded_positions():
    model = build(dual=True).eval()
    data = batch()
    with torch.no_grad():
        out = model(data, mode='tensor')
        fixed = dict(data, **{k: out[k] for k in ('video_mask', 'audio_mask',
                                                   'video_decoder_mask', 'audio_decoder_mask')})
        losses = model(fixed, mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio', 'loss_contrastive'}
    tv = video_reconstruction_targets(data['video'], 2, 16, frame_diff=True)
    ta = audio_reconstruction_targets(data['audio'], 16)
    for mod, target, n_tokens in (('video', tv, 32), ('audio', ta, 128)):
        decode = out[f'{mod}_decode']
        err = (out[f'{mod}_recon'] - target[decode].view(2, -1, target.shape[-1])).pow(2)
        expected = err.mean(-1).sum(1) / ((1 - 0.5) * n_tokens)  # Eq. (6)
        torch.testing.assert_close(losses[f'loss_{mod}'], expected.mean())


def test_backward_reaches_every_parameter():
    model = build(dual=True).train()
    losses = model(batch(), mode='loss')
    sum(losses.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing


def test_modes_and_errors():
    model = build(dual=True)
    with pytest.raises(ValueError, match='mode'):
        model(batch(), mode='predict')
    bad = batch()
    bad['video_mask'] = torch.zeros(2, 32, dtype=torch.bool)
    bad['video_mask'][0, :24] = True  # not a tube: rows decode different counts
    bad['video_mask'][1, torch.randperm(32)[:24]] = True
    with pytest.raises(ValueError):
        model(bad, mode='tensor')
    with pytest.raises(ValueError, match='depth'):
        build(video_decoder=dict(type='AVMAEDecoder', embed_dim=16, depth=3, num_heads=2))


def test_plain_decoder_without_skips():
    model = build(dual=True, skip_indices=None, loss_contrastive=None,
                  video_decoder=dict(type='AVMAEDecoder', embed_dim=16, depth=2, num_heads=2),
                  audio_decoder=dict(type='AVMAEDecoder', embed_dim=16, depth=2, num_heads=2))
    assert not any('cross_attn' in k for k in model.state_dict() if 'decoder.' in k)
    losses = model(batch(), mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio'}


def test_base_config_has_the_shape_of_hicmae_b():
    """configs/_base_/models/avmae_vit-base.py = HiCMAE-B's pre-training model: 540 tensors,
    99,609,344 numbers (the released checkpoint's counts), so its weights load one to one; plus
    holaframe's two records of the encoders' token grids (``*.pos_grid``)."""
    from pathlib import Path

    from mmengine.config import Config
    cfg = Config.fromfile(
        str(Path(__file__).resolve().parents[3] / 'configs/_base_/models/avmae_vit-base.py'))
    register_all_modules(init_default_scope=True)  # the data preprocessor is looked up by scope
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    grids = {k: v.tolist() for k, v in state.items() if k.endswith('pos_grid')}
    assert grids == {'video_encoder.pos_grid': [8, 10, 10], 'audio_encoder.pos_grid': [16, 8]}
    weights = {k: v for k, v in state.items() if k not in grids}
    assert len(weights) == 540
    assert sum(v.numel() for v in weights.values()) == 99_609_344
    assert model.video_encoder.grid_size == (8, 10, 10) and model.dual_masking
