"""Parity with HiCMAE's pre-training model on the golden fixture (no decoder masking).

The fixture is ``tests/data/hicmae_tiny_golden.pt`` (see ``tests/data/README.md``), or the file
named by ``HOLAFRAME_HICMAE_FIXTURE``. Weights are converted with
``tools/model_converters/hicmae2holaframe.py``.
"""

import os
from pathlib import Path

import pytest
import torch

from holaframe.registry import MODELS
from holaframe.testing.scripts import load_script
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
FIXTURE = Path(os.environ.get('HOLAFRAME_HICMAE_FIXTURE',
                              REPO / 'tests' / 'data' / 'hicmae_tiny_golden.pt'))
ATOL = 1e-5

pytestmark = pytest.mark.parity


def _converter():
    return load_script(REPO / 'tools' / 'model_converters' / 'hicmae2holaframe.py')


@pytest.fixture(scope='module')
def golden():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


def _model_from_fixture(golden):
    kw = golden['constructor']['pretrain']['kwargs']
    register_all_modules(init_default_scope=False)
    enc = dict(arch=dict(embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_depth'],
                         num_heads=kw['encoder_num_heads'], mlp_ratio=kw['mlp_ratio']))
    aenc = dict(arch=dict(embed_dim=kw['encoder_embed_dim_audio'],
                          depth=kw['encoder_depth_audio'],
                          num_heads=kw['encoder_num_heads_audio'], mlp_ratio=kw['mlp_ratio']))
    cfg = dict(
        type='AVMAEPretrainer',
        video_encoder=dict(type='VideoViTEncoder', img_size=kw['img_size'],
                           patch_size=kw['patch_size'], num_frames=16,
                           tubelet_size=kw['tubelet_size'], **enc),
        audio_encoder=dict(type='AudioViTEncoder', spec_size=tuple(kw['img_size_audio']),
                           patch_size=kw['patch_size_audio'], **aenc),
        fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=kw['encoder_embed_dim'],
                            embed_dim_audio=kw['encoder_embed_dim_audio'],
                            depth=kw['encoder_fusion_depth'],
                            num_heads=kw['encoder_fusion_num_heads'], mlp_ratio=kw['mlp_ratio']),
        video_decoder=dict(type='AVMAEDecoder', out_channels=kw['decoder_num_classes'],
                           embed_dim=kw['decoder_embed_dim'], depth=kw['decoder_depth'],
                           num_heads=kw['decoder_num_heads'], mlp_ratio=kw['mlp_ratio']),
        audio_decoder=dict(type='AVMAEDecoder', out_channels=kw['decoder_num_classes_audio'],
                           embed_dim=kw['decoder_embed_dim_audio'],
                           depth=kw['decoder_depth_audio'],
                           num_heads=kw['decoder_num_heads_audio'], mlp_ratio=kw['mlp_ratio']),
        video_decoder_masker=None,  # HiCMAE decodes every masked token
        audio_decoder_masker=None,
        skip_indices=tuple(kw['return_intermediate_features']),
        loss_contrastive=dict(type='HierarchicalContrastiveLoss',
                              temperature=kw['inter_contrastive_temperature']))
    model = MODELS.build(cfg)
    state, dropped = _converter().convert_state_dict(golden['pretrain_state_dict']['model'])
    assert not dropped
    model.load_state_dict(state, strict=True)
    return model.eval()


def test_pretrainer_reproduces_hicmae_outputs(golden):
    model = _model_from_fixture(golden)
    inputs = golden['inputs']
    with torch.no_grad():
        out = model(dict(video=inputs['video'], audio=inputs['audio'],
                         video_mask=inputs['video_mask'], audio_mask=inputs['audio_mask']),
                    mode='tensor')
    ref = golden['outputs']
    got = {
        'pretrain.encoder_video_visible': out['video_visible'],
        'pretrain.encoder_audio_visible': out['audio_visible'],
        'pretrain.encoder_video_intermediate': torch.stack(out['video_intermediate']),
        'pretrain.encoder_audio_intermediate': torch.stack(out['audio_intermediate']),
        'pretrain.fusion_video': out['fusion_video'],
        'pretrain.fusion_audio': out['fusion_audio'],
        'pretrain.decoder_video_recon': out['video_recon'],
        'pretrain.decoder_audio_recon': out['audio_recon'],
        'pretrain.hcmcl_logits_per_video': torch.stack(out['logits_per_video']),
        'pretrain.hcmcl_logits_per_audio': torch.stack(out['logits_per_audio']),
    }
    for key, value in got.items():
        assert value.shape == ref[key].shape, key
        diff = (value - ref[key]).abs().max().item()
        assert diff <= ATOL, f'{key}: max abs diff {diff:.3g} > {ATOL}'


def test_fixture_masks_are_reproduced_in_shape_by_our_maskers(golden):
    """Our encoder maskers draw masks of the fixture's structure (tube 3/4, random 102/128)."""
    model = _model_from_fixture(golden)
    ref_v, ref_a = golden['inputs']['video_mask'], golden['inputs']['audio_mask']
    v = model.video_masker(2, model.video_encoder.grid_size, 'cpu')
    a = model.audio_masker(2, model.audio_encoder.grid_size, 'cpu')
    assert torch.equal(v.sum(1), ref_v.sum(1)) and torch.equal(a.sum(1), ref_a.sum(1))
    assert (ref_v.view(2, 8, 4) == ref_v.view(2, 8, 4)[:, :1]).all()
    assert (v.view(2, 8, 4) == v.view(2, 8, 4)[:, :1]).all()
