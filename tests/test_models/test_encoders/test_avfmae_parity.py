"""Parity with AVF-MAE++'s own models on the golden fixture.

The fixture is ``tests/data/avfmae_tiny_golden.pt`` (see ``tests/data/README.md``; written by
``tools/model_converters/make_avfmae_fixture.py``), or the file named by
``HOLAFRAME_AVFMAE_FIXTURE``. The weights go through ``tools/model_converters/avfmae2holaframe.py``
and holaframe's modules are built from the fixture's own ``constructor`` record.
"""

import os
import os.path as osp

import pytest
import torch
from torch import nn

from holaframe.models.encoders import AVFMAEAudioEncoder, AVFMAEVideoEncoder
from holaframe.models.fusion import AVFMAEFusionEncoder
from holaframe.models.layers import LGBlock
from holaframe.testing.scripts import load_script

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
FIXTURE = os.environ.get('HOLAFRAME_AVFMAE_FIXTURE',
                         osp.join(REPO_ROOT, 'tests', 'data', 'avfmae_tiny_golden.pt'))
TOL = 1e-5

pytestmark = pytest.mark.parity


def _load_converter():
    path = osp.join(REPO_ROOT, 'tools', 'model_converters', 'avfmae2holaframe.py')
    return load_script(path, 'avfmae2holaframe')


@pytest.fixture(scope='module')
def golden():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def converted(golden, tmp_path_factory):
    """The fixture's AVF-MAE++ checkpoint converted by the tool, as written to disk."""
    src = tmp_path_factory.mktemp('avfmae') / 'avfmae_tiny.pth'
    torch.save(golden['pretrain_state_dict'], src)
    dst = src.with_name('avfmae_tiny_holaframe.pth')
    _load_converter().convert_checkpoint(str(src), str(dst))
    return torch.load(dst, weights_only=True)['state_dict']


def build_modules(record, out_tokens='local'):
    """holaframe encoders and fusion encoder equivalent to AVF-MAE++'s ``encoder``,
    ``encoder_audio`` and ``encoder_fusion`` built with ``record['pretrain']['kwargs']``."""
    kw, eps = record['pretrain']['kwargs'], record['pretrain']['norm_eps']
    lg = dict(first_attn_type=kw['lg_first_attn_type'], third_attn_type=kw['lg_third_attn_type'],
              attn_param_sharing_first_third=kw['lg_attn_param_sharing_first_third'],
              attn_param_sharing_all=kw['lg_attn_param_sharing_all'],
              no_second=kw['lg_no_second'], out_tokens=out_tokens, qkv_bias=kw['qkv_bias'],
              qk_scale=kw['qk_scale'], norm_eps=eps)
    model = nn.Module()
    model.video_encoder = AVFMAEVideoEncoder(
        arch=dict(embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_depth'],
                  num_heads=kw['encoder_num_heads'], mlp_ratio=kw['mlp_ratio']),
        img_size=kw['img_size'], patch_size=kw['patch_size'], num_frames=16,
        tubelet_size=kw['tubelet_size'], region_size=kw['lg_region_size'], **lg)
    model.audio_encoder = AVFMAEAudioEncoder(
        arch=dict(embed_dim=kw['encoder_embed_dim_audio'], depth=kw['encoder_depth_audio'],
                  num_heads=kw['encoder_num_heads_audio'], mlp_ratio=kw['mlp_ratio']),
        spec_size=kw['img_size_audio'], patch_size=kw['patch_size_audio'],
        region_size=kw['lg_region_size_audio'], **lg)
    model.fusion_encoder = AVFMAEFusionEncoder(
        embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_fusion_depth'],
        num_heads=kw['encoder_fusion_num_heads'], mlp_ratio=kw['mlp_ratio'],
        qkv_bias=kw['qkv_bias'], qk_scale=kw['qk_scale'], norm_eps=eps)
    return model.eval()


def _load(model, converted):
    parts = ('video_encoder.', 'audio_encoder.', 'fusion_encoder.')
    result = model.load_state_dict({k: v for k, v in converted.items() if k.startswith(parts)},
                                   strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model


def _inputs(golden):
    inputs = golden['inputs']
    return (inputs['video'].float(), inputs['audio'].float(), inputs['video_mask'],
            inputs['audio_mask'])


def _ascending(x, order, dim=1):
    """Reference tokens (region-major, ``x.select(dim, k)`` = token ``order[k]``) in token
    order."""
    return x.index_select(dim, torch.argsort(order))


def _close(actual, expected, name):
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    err = (actual - expected).abs().max().item()
    assert err <= TOL, f'{name}: max abs difference {err:.3g} > {TOL}'
    return err


@torch.no_grad()
def test_pretraining_encoders_and_fusion(golden, converted):
    """Visible tokens, every block's features and the fusion of the pre-training path."""
    model = _load(build_modules(golden['constructor']), converted)
    out = golden['outputs']
    video, audio, vmask, amask = _inputs(golden)
    depth = golden['constructor']['pretrain']['kwargs']['encoder_depth']
    v, v_layers = model.video_encoder(video, vmask, out_indices=list(range(depth)))
    a, a_layers = model.audio_encoder(audio, amask, out_indices=list(range(depth)))
    vorder, aorder = out['pretrain.video_visible_order'], out['pretrain.audio_visible_order']
    _close(v, _ascending(out['pretrain.video'], vorder), 'video visible tokens')
    _close(a, _ascending(out['pretrain.audio'], aorder), 'audio visible tokens')
    _close(torch.stack(v_layers), _ascending(out['pretrain.video_intermediate'], vorder, 2),
           'video block features')
    _close(torch.stack(a_layers), _ascending(out['pretrain.audio_intermediate'], aorder, 2),
           'audio block features')
    # The default context (mean video token, mean audio token) is the reference's input.
    _close(torch.cat([v.mean(1, keepdim=True), a.mean(1, keepdim=True)], -1),
           out['pretrain.fusion_overall_input'], 'fusion context')
    fv, fa = model.fusion_encoder(v, a)
    _close(fv, _ascending(out['pretrain.fusion_video'], vorder), 'fused video')
    _close(fa, _ascending(out['pretrain.fusion_audio'], aorder), 'fused audio')


@torch.no_grad()
def test_finetuning_region_and_local_tokens(golden, converted):
    """All tokens (no mask): region tokens of every block (AVF-MAE++'s fine-tuning output) and
    local tokens of every block, each normalised by the encoder norm."""
    out = golden['outputs']
    video, audio, _, _ = _inputs(golden)
    regions = _load(build_modules(golden['constructor'], out_tokens='region'), converted)
    _, v_layers = regions.video_encoder(video, out_indices='all')
    _, a_layers = regions.audio_encoder(audio, out_indices='all')
    _close(torch.stack(v_layers, 2), out['finetune.video_region_all_layers'], 'video regions')
    _close(torch.stack(a_layers, 2), out['finetune.audio_region_all_layers'], 'audio regions')
    local = _load(build_modules(golden['constructor']), converted)
    _, v_layers = local.video_encoder(video, out_indices='all')
    _, a_layers = local.audio_encoder(audio, out_indices='all')
    _close(torch.stack(v_layers, 2),
           _ascending(out['finetune.video_local_all_layers'], out['finetune.video_order']),
           'video local tokens')
    _close(torch.stack(a_layers, 2),
           _ascending(out['finetune.audio_local_all_layers'], out['finetune.audio_order']),
           'audio local tokens')


@torch.no_grad()
def test_finetuning_fusion_with_given_context(golden, converted):
    """AVF-MAE++'s fine-tuning passes the layer-weighted region tokens as the initial context."""
    out = golden['outputs']
    model = _load(build_modules(golden['constructor']), converted)
    v = out['finetune.video_region_all_layers'][:, :, -1]
    a = out['finetune.audio_region_all_layers'][:, :, -1]
    fv, fa = model.fusion_encoder(v, a, out['finetune.fusion_overall_input'])
    _close(fv, out['finetune.fusion_video'], 'fused video (fine-tuning)')
    _close(fa, out['finetune.fusion_audio'], 'fused audio (fine-tuning)')


@torch.no_grad()
def test_lg_block_options(golden):
    """One LGBlock per option set of AVF-MAE++ (local cross-attention, parameter sharing,
    no global step), loaded from the reference block's state dict unchanged."""
    variants = golden['lg_block_variants']
    assert len(variants) >= 5
    for variant in variants:
        kw = dict(variant['kwargs'])
        kw.pop('init_values')
        block = LGBlock(norm_eps=variant['norm_eps'], **kw).eval()
        result = block.load_state_dict(variant['state_dict'], strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        y = block(variant['input'], variant['batch_size'])
        _close(y, variant['output'], f'LGBlock {variant["kwargs"]}')


def test_fixture_records_a_local_global_reference(golden):
    """The fixture comes from AVF-MAE++'s local-global models at the recorded commit."""
    record = golden['constructor']
    assert record['repo'] == 'github.com/XuecWu/AVF-MAE'
    assert record['commit'].startswith('a31ebf8')
    assert record['pretrain']['kwargs']['attn_type'] == 'local_global'
    assert record['pretrain']['kwargs']['encoder_fusion_depth'] >= 1
