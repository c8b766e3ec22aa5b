"""Parity with the original HiCMAE models on the golden fixture.

The fixture is ``tests/data/hicmae_tiny_golden.pt`` (see ``tests/data/README.md``), or the file
named by ``HOLAFRAME_HICMAE_FIXTURE`` (so the same test checks any other size). The holaframe
modules are built from the fixture's own ``constructor`` record; no size is hard-coded here.
"""

import os
import os.path as osp
import re

import pytest
import torch
from torch import nn

from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
from holaframe.models.fusion import HiCMAEFusionEncoder
from holaframe.models.heads import HiCMAEClsHead
from holaframe.testing.scripts import load_script

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
FIXTURE = os.environ.get('HOLAFRAME_HICMAE_FIXTURE',
                         osp.join(REPO_ROOT, 'tests', 'data', 'hicmae_tiny_golden.pt'))
TOL = 1e-5

pytestmark = pytest.mark.parity


def _load_converter():
    path = osp.join(REPO_ROOT, 'tools', 'model_converters', 'hicmae2holaframe.py')
    return load_script(path, 'hicmae2holaframe')


def _norm_eps(record):
    match = re.search(r'eps=([0-9.eE+-]+)', record['norm_layer'])
    return float(match.group(1)) if match else 1e-5


def build_finetune_model(record):
    """holaframe modules equivalent to HiCMAE's ``AudioVisionTransformer(**kwargs)``."""
    kw, eps = record['kwargs'], _norm_eps(record)
    common = dict(qkv_bias=kw['qkv_bias'], qk_scale=kw['qk_scale'], norm_eps=eps,
                  init_values=kw['init_values'])
    model = nn.Module()
    model.video_encoder = VideoViTEncoder(
        arch=dict(embed_dim=kw['embed_dim'], depth=kw['depth'], num_heads=kw['num_heads'],
                  mlp_ratio=kw['mlp_ratio']),
        img_size=kw['img_size'], patch_size=kw['patch_size'], in_channels=kw['in_chans'],
        num_frames=kw['all_frames'], tubelet_size=kw['tubelet_size'], **common)
    model.audio_encoder = AudioViTEncoder(
        arch=dict(embed_dim=kw['embed_dim_audio'], depth=kw['depth_audio'],
                  num_heads=kw['num_heads_audio'], mlp_ratio=kw['mlp_ratio']),
        spec_size=kw['img_size_audio'], patch_size=kw['patch_size_audio'],
        in_channels=kw['in_chans_audio'], **common)
    model.fusion_encoder = HiCMAEFusionEncoder(
        embed_dim=kw['embed_dim'], embed_dim_audio=kw['embed_dim_audio'],
        depth=kw['fusion_depth'], num_heads=kw['fusion_num_heads'], mlp_ratio=kw['mlp_ratio'],
        **common)
    model.head = HiCMAEClsHead(
        video_dim=kw['embed_dim'], audio_dim=kw['embed_dim_audio'], video_depth=kw['depth'],
        audio_depth=kw['depth_audio'], num_classes=kw['num_classes'], norm_eps=eps)
    return model.eval()


def build_pretrain_encoders(record, num_frames):
    """holaframe encoders + fusion equivalent to the encoder side of HiCMAE pre-training."""
    kw, eps = record['kwargs'], _norm_eps(record)
    common = dict(qkv_bias=kw['qkv_bias'], qk_scale=kw['qk_scale'], norm_eps=eps,
                  init_values=kw['init_values'])
    model = nn.Module()
    model.video_encoder = VideoViTEncoder(
        arch=dict(embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_depth'],
                  num_heads=kw['encoder_num_heads'], mlp_ratio=kw['mlp_ratio']),
        img_size=kw['img_size'], patch_size=kw['patch_size'],
        in_channels=kw['encoder_in_chans'], num_frames=num_frames,
        tubelet_size=kw['tubelet_size'], **common)
    model.audio_encoder = AudioViTEncoder(
        arch=dict(embed_dim=kw['encoder_embed_dim_audio'], depth=kw['encoder_depth_audio'],
                  num_heads=kw['encoder_num_heads_audio'], mlp_ratio=kw['mlp_ratio']),
        spec_size=kw['img_size_audio'], patch_size=kw['patch_size_audio'],
        in_channels=kw['encoder_in_chans_audio'], **common)
    model.fusion_encoder = HiCMAEFusionEncoder(
        embed_dim=kw['encoder_embed_dim'], embed_dim_audio=kw['encoder_embed_dim_audio'],
        depth=kw['encoder_fusion_depth'], num_heads=kw['encoder_fusion_num_heads'],
        mlp_ratio=kw['mlp_ratio'], **common)
    return model.eval()


@pytest.fixture(scope='module')
def fixture():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def converted(fixture, tmp_path_factory):
    conv = _load_converter()
    out = {}
    for kind in ('finetune', 'pretrain'):
        src = tmp_path_factory.mktemp('hicmae') / f'{kind}.pth'
        torch.save(fixture[f'{kind}_state_dict'], src)
        dst = src.with_name(f'{kind}_holaframe.pth')
        conv.convert_checkpoint(str(src), str(dst))
        out[kind] = torch.load(dst, map_location='cpu', weights_only=True)
    return out


def _check(got, want, name):
    assert got.shape == want.shape, f'{name}: shape {tuple(got.shape)} != {tuple(want.shape)}'
    diff = (got - want).abs().max().item()
    assert diff <= TOL, f'{name}: max abs diff {diff:.3g} > {TOL}'


def _strip(state_dict, prefixes):
    return {k: v for k, v in state_dict.items() if k.startswith(prefixes)}


def test_finetune_parity(fixture, converted):
    model = build_finetune_model(fixture['constructor']['finetune'])
    ckpt = converted['finetune']
    assert ckpt['meta']['kind'] == 'finetune'
    result = model.load_state_dict(ckpt['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    inputs, outputs = fixture['inputs'], fixture['outputs']
    with torch.no_grad():
        video, video_layers = model.video_encoder(inputs['video'], out_indices='all')
        audio, audio_layers = model.audio_encoder(inputs['audio'], out_indices='all')
        fused_v, fused_a = model.fusion_encoder(video, audio)
        head = model.head
        feat = head.forward_features(video_layers, audio_layers, fused_v, fused_a)
        logits = head(video_layers, audio_layers, fused_v, fused_a)
        cv = head._layer_pool(video_layers, head.video_layer_weights, head.video_depth, 'v')
        ca = head._layer_pool(audio_layers, head.audio_layer_weights, head.audio_depth, 'a')
    fc_in = torch.cat([cv, ca, fused_v.mean(1), fused_a.mean(1)], -1)
    got = {
        'finetune.encoder_video_all_layers': torch.stack(video_layers, 2),
        'finetune.encoder_audio_all_layers': torch.stack(audio_layers, 2),
        'finetune.fusion_video': fused_v,
        'finetune.fusion_audio': fused_a,
        'finetune.video_feature': cv,
        'finetune.audio_feature': ca,
        'finetune.fusion_video_feature': fused_v.mean(1),
        'finetune.fusion_audio_feature': fused_a.mean(1),
        'finetune.fc_norm_input': fc_in,
        'finetune.final_feature': feat,
        'finetune.logits': logits,
    }
    assert set(got) == {k for k in outputs if k.startswith('finetune.')}
    for name, value in got.items():
        _check(value, outputs[name], name)


def test_pretrain_encoder_parity(fixture, converted):
    record = fixture['constructor']['pretrain']
    derived = fixture['constructor']['derived']
    model = build_pretrain_encoders(record, num_frames=derived['num_frames'])
    ckpt = converted['pretrain']
    assert ckpt['meta']['kind'] == 'pretrain'
    encoder_sd = _strip(ckpt['state_dict'],
                        ('video_encoder.', 'audio_encoder.', 'fusion_encoder.'))
    result = model.load_state_dict(encoder_sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    skips = tuple(record['kwargs']['return_intermediate_features'])
    inputs, outputs = fixture['inputs'], fixture['outputs']
    with torch.no_grad():
        video, video_mid = model.video_encoder(
            inputs['video'], mask=inputs['video_mask'], out_indices=skips)
        audio, audio_mid = model.audio_encoder(
            inputs['audio'], mask=inputs['audio_mask'], out_indices=skips)
        fused_v, fused_a = model.fusion_encoder(video, audio)
    got = {
        'pretrain.encoder_video_visible': video,
        'pretrain.encoder_audio_visible': audio,
        'pretrain.encoder_video_intermediate': torch.stack(video_mid),
        'pretrain.encoder_audio_intermediate': torch.stack(audio_mid),
        'pretrain.fusion_video': fused_v,
        'pretrain.fusion_audio': fused_a,
    }
    for name, value in got.items():
        _check(value, outputs[name], name)
