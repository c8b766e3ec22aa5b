"""Tests of tools/model_converters/hicmae2holaframe.py."""

import argparse
import os
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from torch import nn

from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
from holaframe.models.fusion import HiCMAEFusionEncoder
from holaframe.models.heads import HiCMAEClsHead
from holaframe.testing.scripts import load_script
from holaframe.utils.checkpoint import load_checkpoint_safely, unwrap_state_dict

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOOL = osp.join(REPO_ROOT, 'tools', 'model_converters', 'hicmae2holaframe.py')
ARCH = dict(embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.)


def _tool():
    return load_script(TOOL, 'hicmae2holaframe')


def _holaframe_model(with_head=True):
    model = nn.Module()
    model.video_encoder = VideoViTEncoder(arch=ARCH, img_size=32, num_frames=4)
    model.audio_encoder = AudioViTEncoder(arch=ARCH, spec_size=(32, 32))
    model.fusion_encoder = HiCMAEFusionEncoder(16, 16, depth=1, num_heads=2, mlp_ratio=2.)
    if with_head:
        model.head = HiCMAEClsHead(16, 16, 2, 2, num_classes=3)
    return model


def _hicmae_state_dict(pretrain):
    """A HiCMAE-named state dict with random values (encoder names are HiCMAE's own)."""
    gen = torch.Generator().manual_seed(0)
    model = _holaframe_model(with_head=not pretrain)
    back = {'video_encoder.': 'encoder.', 'audio_encoder.': 'encoder_audio.',
            'fusion_encoder.': 'encoder_fusion.', 'head.fc.': 'head.', 'head.fc_norm.': 'fc_norm.',
            'head.video_layer_weights': 'video_layer_weights',
            'head.audio_layer_weights': 'audio_layer_weights'}
    sd = OrderedDict()
    for key, value in model.state_dict().items():
        if key.endswith('pos_grid'):
            continue  # holaframe's record of the token grid; HiCMAE files have none
        for src, dst in sorted(back.items(), key=lambda kv: -len(kv[0])):
            if key.startswith(src):
                key = dst + key[len(src):]
                break
        sd[key] = torch.randn(value.shape, generator=gen)
    if pretrain:
        for dec in ('decoder', 'decoder_audio'):
            sd[f'{dec}.blocks.0.attn.qkv.weight'] = torch.randn(24, 8, generator=gen)
            sd[f'{dec}.blocks.1.cross_attn.q.weight'] = torch.randn(8, 8, generator=gen)
            sd[f'{dec}.head.weight'] = torch.randn(12, 8, generator=gen)
        sd['encoder_to_decoder.weight'] = torch.randn(8, 16, generator=gen)
        sd['encoder_to_decoder_audio.weight'] = torch.randn(8, 16, generator=gen)
        sd['mask_token'] = torch.randn(1, 1, 8, generator=gen)
        sd['mask_token_audio'] = torch.randn(1, 1, 8, generator=gen)
    return sd


def test_key_mapping():
    tool = _tool()
    expected = {
        'encoder.blocks.0.attn.q_bias': 'video_encoder.blocks.0.attn.q_bias',
        'encoder_audio.patch_embed.proj.weight': 'audio_encoder.patch_embed.proj.weight',
        'encoder_fusion.blocks_audio.1.cross_norm2.bias':
        'fusion_encoder.blocks_audio.1.cross_norm2.bias',
        'decoder.blocks.1.cross_attn.kv.weight': 'video_decoder.blocks.1.cross_attn.kv.weight',
        'decoder_audio.head.bias': 'audio_decoder.head.bias',
        'encoder_to_decoder.weight': 'video_encoder_to_decoder.weight',
        'encoder_to_decoder_audio.weight': 'audio_encoder_to_decoder.weight',
        'mask_token': 'video_mask_token',
        'mask_token_audio': 'audio_mask_token',
        'video_layer_weights': 'head.video_layer_weights',
        'fc_norm.weight': 'head.fc_norm.weight',
        'head.bias': 'head.fc.bias',
    }
    for src, dst in expected.items():
        assert tool.convert_key(src) == dst
    with pytest.raises(KeyError, match='unknown'):
        tool.convert_key('something_else.weight')
    with pytest.raises(KeyError, match='sin-cos'):
        tool.convert_key('encoder.pos_embed')
    # Encoder keys outside HiCMAE's block layout (e.g. AVF-MAE++ local-global blocks) are refused.
    for key in ('encoder.blocks.0.first_attn.q.weight', 'encoder_audio.blocks.1.attn.qkv.bias',
                'encoder_fusion.blocks.0.attn.kv.weight'):
        with pytest.raises(KeyError, match='layout'):
            tool.convert_key(key)


@pytest.mark.parametrize('wrapper', ['model', 'module', 'top'])
def test_convert_finetune_checkpoint_loads_without_missing_keys(tmp_path, wrapper):
    tool = _tool()
    sd = _hicmae_state_dict(pretrain=False)
    ckpt = {wrapper: sd} if wrapper != 'top' else dict(sd)
    src, dst = tmp_path / 'ft.pth', tmp_path / 'out' / 'ft_holaframe.pth'
    torch.save(ckpt, src)
    meta = tool.convert_checkpoint(str(src), str(dst), video_grid=(8, 10, 10),
                                   audio_grid=(16, 8))
    # + the two encoders' token grids (HiCMAE's release: 160 px video, fbank 256 x 128).
    assert meta['kind'] == 'finetune' and meta['num_tensors'] == len(sd) + 2
    assert meta['token_grids'] == dict(video=[8, 10, 10], audio=[16, 8])
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(out) == {'state_dict', 'meta'}
    model = _holaframe_model()
    result = model.load_state_dict(out['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert model.video_encoder.pos_grid.tolist() == [8, 10, 10]
    torch.testing.assert_close(model.head.fc.weight, sd['head.weight'])
    torch.testing.assert_close(model.video_encoder.blocks[1].attn.v_bias,
                               sd['encoder.blocks.1.attn.v_bias'])


def test_cli_pretrain_checkpoint_with_namespace_and_init_cfg(tmp_path):
    sd = _hicmae_state_dict(pretrain=True)
    src, dst = tmp_path / 'pt.pth', tmp_path / 'pt_holaframe.pth'
    torch.save(dict(model=sd, args=argparse.Namespace(model='pretrain_hicmae', lr=1.5e-4,
                                                       depth=(10, 10)),
                    epoch=99, optimizer={'state': {}, 'param_groups': []}), src)
    proc = subprocess.run([sys.executable, TOOL, str(src), str(dst)], capture_output=True,
                          text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert 'pretrain' in proc.stdout
    # The arguments do not say the input size: no grid is recorded, and the tool says so.
    assert 'token grid of the pre-training is unknown' in proc.stdout
    out = torch.load(dst, map_location='cpu', weights_only=True)
    meta = out['meta']
    assert meta['kind'] == 'pretrain' and meta['epoch'] == 99
    assert meta['hicmae_args']['model'] == 'pretrain_hicmae'
    assert meta['architecture']['video'] == dict(depth=2, embed_dim=16)
    keys = set(out['state_dict'])
    assert {'video_mask_token', 'audio_mask_token', 'video_encoder_to_decoder.weight',
            'audio_encoder_to_decoder.weight', 'video_decoder.head.weight',
            'audio_decoder.blocks.1.cross_attn.q.weight'} <= keys
    # Encoders load through init_cfg (type Pretrained), with zero missing / unexpected keys.
    for prefix, enc in (('video_encoder.', VideoViTEncoder(
            arch=ARCH, img_size=32, num_frames=4,
            init_cfg=dict(type='Pretrained', checkpoint=str(dst), prefix='video_encoder.'))),
                        ('audio_encoder.', AudioViTEncoder(
            arch=ARCH, spec_size=(32, 32),
            init_cfg=dict(type='Pretrained', checkpoint=str(dst), prefix='audio_encoder.')))):
        enc_sd = {k[len(prefix):]: v for k, v in out['state_dict'].items()
                  if k.startswith(prefix)}
        assert set(enc_sd) == set(enc.state_dict()) - {'pos_grid'}
        enc.init_weights()
        for name, value in enc.state_dict().items():
            if name != 'pos_grid':
                torch.testing.assert_close(value, enc_sd[name])


def test_token_grids_from_training_arguments():
    tool = _tool()
    assert tool.token_grids({}) == {}
    assert tool.token_grids(dict(window_size=[8, 10, 10], window_size_audio=[16, 8])) == dict(
        video=(8, 10, 10), audio=(16, 8))
    args = dict(input_size=224, num_frames=16, input_size_audio=512, num_mel_bins=128)
    assert tool.token_grids(args) == dict(video=(8, 14, 14), audio=(32, 8))
    assert tool.parse_args(['a', 'b', '--video-grid', '8,12,12']).video_grid == (8, 12, 12)
    with pytest.raises(SystemExit):
        tool.parse_args(['a', 'b', '--audio-grid', '16,x'])


class _CallsOnLoad:
    """Unpickling calls a function: what an unrestricted torch.load would execute."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'model': {'a': torch.zeros(1)}, 'payload': _CallsOnLoad()}, path)
    with pytest.raises(RuntimeError, match='weights_only=True'):
        load_checkpoint_safely(str(path))


def test_unwrap_and_skip_unknown(tmp_path):
    tool = _tool()
    sd = OrderedDict([('module.encoder.norm.weight', torch.ones(2)),
                      ('module.extra.weight', torch.ones(1))])
    state = unwrap_state_dict({'module': sd})
    assert list(state) == ['encoder.norm.weight', 'extra.weight']
    with pytest.raises(KeyError, match='extra.weight'):
        tool.convert_state_dict(state)
    converted, dropped = tool.convert_state_dict(state, skip_unknown=True)
    assert list(converted) == ['video_encoder.norm.weight'] and dropped == ['extra.weight']
