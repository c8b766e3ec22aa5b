"""Tests of tools/analysis_tools/get_flops.py and holaframe.utils.flops."""

import json
import os.path as osp

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from mmengine.config import Config
from torch import nn

from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
from holaframe.models.fusion import HiCMAEFusionEncoder
from holaframe.models.heads import HiCMAEClsHead
from holaframe.models.layers import Attention
from holaframe.registry import MODELS
from holaframe.testing.scripts import load_script
from holaframe.utils.flops import attention_flops, flop_count_analysis

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOOL = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'get_flops.py')
TEST_MODEL = '_GetFlopsTestHiCMAE'


@MODELS.register_module(name=TEST_MODEL, force=True)
class _GetFlopsTestHiCMAE(nn.Module):
    """HiCMAE fine-tuning composition with a holaframe-style dict-input forward."""

    def __init__(self, arch='tiny', img_size=32, fusion_depth=2):
        super().__init__()
        self.video_encoder = VideoViTEncoder(arch=arch, img_size=img_size)
        self.audio_encoder = AudioViTEncoder(arch=arch)
        dim, heads = self.video_encoder.embed_dim, self.video_encoder.num_heads
        self.fusion_encoder = HiCMAEFusionEncoder(dim, dim, depth=fusion_depth, num_heads=heads)
        self.head = HiCMAEClsHead(dim, dim, self.video_encoder.depth, self.audio_encoder.depth)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        assert mode == 'tensor'
        video, video_layers = self.video_encoder(inputs['video'], out_indices='all')
        audio, audio_layers = self.audio_encoder(inputs['audio'], out_indices='all')
        fused_v, fused_a = self.fusion_encoder(video, audio)
        return self.head(video_layers, audio_layers, fused_v, fused_a)


def _tool():
    return load_script(TOOL, 'get_flops')


def _encoder_flops(n, c, depth, patch_macs):
    """Analytic fvcore count of a ViT encoder returning every normalised block output."""
    linear = 12 * n * c * c  # qkv 3C^2 + proj C^2 + fc1 4C^2 + fc2 4C^2 per token
    attention = 2 * n * n * c  # Q K^T and A V over all heads
    norms = 2 * 5 * n * c  # two affine LayerNorms, fvcore counts 5 per element
    return n * c * patch_macs + depth * (linear + attention + norms) + depth * 5 * n * c


def test_sdpa_handle_counts_attention():
    attn = Attention(16, num_heads=4).eval()
    x = torch.randn(2, 5, 16)
    plain = FlopCountAnalysis(attn, (x, ))
    plain.unsupported_ops_warnings(False)
    assert plain.by_operator().get('scaled_dot_product_attention', 0) == 0
    counted = flop_count_analysis(attn, (x, )).by_operator()['scaled_dot_product_attention']
    assert counted == attention_flops(2, 4, 5, 5, 4) == 2 * 4 * 5 * 5 * 8


def test_get_flops_tiny_hicmae(tmp_path):
    tool = _tool()
    cfg_path = tmp_path / 'tiny_hicmae.py'
    cfg_path.write_text(f"model = dict(type='{TEST_MODEL}', arch='tiny', img_size=32)\n")
    out_json = tmp_path / 'flops.json'
    result = tool.main([str(cfg_path), '--shape', 'video=3,16,32,32', 'audio=1,256,128',
                        '--out-json', str(out_json)])
    # Pinned numbers of the tiny (HiCMAE-T: dim 256, depth 10, 4 heads) composition.
    assert result['params'] == 20_469_270
    assert result['flops'] == 1_738_144_768
    enc = dict(video=sum(p.numel() for p in VideoViTEncoder(arch='tiny', img_size=32)
                         .parameters()),
               audio=sum(p.numel() for p in AudioViTEncoder(arch='tiny').parameters()))
    assert enc == dict(video=8_289_024, audio=7_961_344)
    c = 256
    block = 4 * c + 3 * c * c + 2 * c + (c * c + c) + (4 * c * c + 4 * c) + (4 * c * c + c)
    assert enc['video'] == (c * 3 * 2 * 16 * 16 + c) + 10 * block + 2 * c
    assert enc['audio'] == (c * 16 * 16 + c) + 10 * block + 2 * c
    # Encoders: exactly the analytic count (video 8x2x2 = 32 tokens, audio 16x8 = 128 tokens).
    assert result['by_module']['video_encoder'] == _encoder_flops(32, 256, 10, 3 * 2 * 16 * 16)
    assert result['by_module']['audio_encoder'] == _encoder_flops(128, 256, 10, 16 * 16)
    # Attention against the analytic count: encoders + lock-step fusion (cross both ways).
    nv, na, heads, hd = 32, 128, 4, 64
    self_v = attention_flops(1, heads, nv, nv, hd)
    self_a = attention_flops(1, heads, na, na, hd)
    cross = attention_flops(1, heads, nv, na, hd) + attention_flops(1, heads, na, nv, hd)
    analytic = 10 * self_v + 10 * self_a + 2 * (cross + self_v + self_a)
    assert result['attention_flops'] == pytest.approx(analytic, rel=0.01)
    assert result['attention_flops'] > 0
    saved = json.loads(out_json.read_text())
    assert saved['flops'] == result['flops'] and saved['shapes']['audio'] == [1, 256, 128]
    assert 'video_encoder' in result['table']


def test_shapes_inferred_and_batch(tmp_path):
    tool = _tool()
    cfg = Config(dict(model=dict(type=TEST_MODEL, arch=dict(embed_dim=32, depth=1, num_heads=2,
                                                            mlp_ratio=4.), img_size=32,
                                 fusion_depth=1)))
    one = tool.compute_flops(cfg)
    assert one['shapes'] == dict(video=[3, 16, 32, 32], audio=[1, 256, 128])
    two = tool.compute_flops(cfg, batch_size=2)
    assert two['flops'] == 2 * one['flops'] and two['flops_per_sample'] == one['flops']
    with pytest.raises(ValueError, match='name=d1'):
        tool.parse_shapes(['video:3,16'])


def test_get_flops_pins_the_paper_faithful_tiny_config(tmp_path):
    """A silent change in the cost of the tiny HOLA config fails here (detectron2's habit)."""
    cfg = osp.join(REPO_ROOT, 'configs', 'hola', 'hola_vit-nano_scratch_1xb8-10min_synthetic.py')
    result = _tool().main([cfg, '--out-json', str(tmp_path / 'nano.json')])
    assert result['shapes'] == dict(video=[3, 16, 112, 112], audio=[16, 32])
    assert result['params'] == 748_834
    assert result['flops'] == 178_310_144
    assert result['attention_flops'] == 61_046_912
