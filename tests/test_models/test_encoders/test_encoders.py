"""Tests of the HiCMAE-compatible encoders, fusion encoder and fine-tuning head."""

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.encoders import ARCH_SETTINGS, AudioViTEncoder, VideoViTEncoder
from holaframe.models.fusion import HiCMAEFusionEncoder
from holaframe.models.heads import HiCMAEClsHead
from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

NANO = dict(embed_dim=16, depth=3, num_heads=2, mlp_ratio=2.)


def _video(**kw):
    cfg = dict(arch=NANO, img_size=32, num_frames=4)
    cfg.update(kw)
    enc = VideoViTEncoder(**cfg)
    enc.init_weights()
    return enc.eval()


def test_arch_settings_and_overrides():
    assert ARCH_SETTINGS['base'] == dict(embed_dim=512, depth=10, num_heads=8, mlp_ratio=4.)
    enc = MODELS.build(dict(type='VideoViTEncoder', arch='base', depth=1))
    assert (enc.embed_dim, enc.depth, enc.num_heads) == (512, 1, 8)
    assert enc.num_patches == 8 * 14 * 14 and enc.grid_size == (8, 14, 14)
    audio = MODELS.build(dict(type='AudioViTEncoder', arch='small', depth=1))
    assert audio.embed_dim == 384 and audio.grid_size == (16, 8) and audio.num_patches == 128
    mfcc = MODELS.build(dict(type='AudioViTEncoder', arch='tiny', depth=1, input_type='mfcc'))
    assert mfcc.embed_dim == 256 and mfcc.grid_size == (16, ) and mfcc.num_patches == 16
    with pytest.raises(KeyError, match='unknown arch'):
        VideoViTEncoder(arch='huge')
    with pytest.raises(ValueError, match='input_type'):
        AudioViTEncoder(arch=NANO, input_type='wave')


def test_video_encoder_forward_and_intermediates():
    enc = _video()
    x = torch.randn(2, 3, 4, 32, 32)
    out = enc(x)
    assert out.shape == (2, 8, 16)
    final, layers = enc(x, out_indices='all')
    assert len(layers) == 3 and torch.equal(final, out) and torch.equal(layers[-1], out)
    # Intermediate outputs = shared final norm applied to each block output.
    tokens = enc.embed(x)
    ref = []
    for blk in enc.blocks:
        tokens = blk(tokens)
        ref.append(enc.norm(tokens))
    for got, want in zip(layers, ref):
        torch.testing.assert_close(got, want)
    _, picked = enc(x, out_indices=(-1, 0))
    torch.testing.assert_close(picked[0], ref[2])
    torch.testing.assert_close(picked[1], ref[0])
    with pytest.raises(IndexError):
        enc(x, out_indices=(3, ))


def test_mask_removes_tokens_before_blocks():
    enc = _video()
    x = torch.randn(2, 3, 4, 32, 32)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, [0, 3, 5]] = True
    mask[1, [1, 2, 7]] = True
    out = enc(x, mask=mask)
    assert out.shape == (2, 5, 16)
    tokens = enc.embed(x)[~mask].reshape(2, 5, 16)
    for blk in enc.blocks:
        tokens = blk(tokens)
    torch.testing.assert_close(out, enc.norm(tokens))
    bad = mask.clone()
    bad[0, 1] = True
    with pytest.raises(ValueError, match='same, non-zero'):
        enc(x, mask=bad)


def test_positions_are_added_and_not_in_state_dict():
    enc = _video()
    assert not any('pos_embed' in k for k in enc.state_dict())
    x = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(enc.embed(x), enc.patch_embed(x) + enc.pos_embed)
    assert enc.pos_embed.shape == (1, 8, 16)


def test_with_cp_same_gradients():
    torch.manual_seed(0)
    plain = _video(drop_path_rate=0.)
    cp = _video(with_cp=True)
    cp.load_state_dict(plain.state_dict())
    plain.train()
    cp.train()
    x = torch.randn(2, 3, 4, 32, 32)
    plain(x).pow(2).sum().backward()
    cp(x).pow(2).sum().backward()
    for (name, p1), p2 in zip(plain.named_parameters(), cp.parameters()):
        assert p1.grad is not None, name
        torch.testing.assert_close(p1.grad, p2.grad, rtol=1e-5, atol=1e-6)


def test_audio_encoder_fbank_and_mfcc():
    fbank = AudioViTEncoder(arch=NANO, spec_size=(64, 32)).eval()
    assert fbank(torch.randn(2, 1, 64, 32)).shape == (2, 8, 16)
    assert fbank(torch.randn(2, 64, 32)).shape == (2, 8, 16)
    mfcc = AudioViTEncoder(arch=NANO, input_type='mfcc', num_segments=16, num_coeffs=32).eval()
    x = torch.randn(2, 16, 32)
    out, layers = mfcc(x, out_indices='all')
    assert out.shape == (2, 16, 16) and len(layers) == 3
    # Silent clip (all-zero features): finite outputs.
    assert torch.isfinite(mfcc(torch.zeros(1, 16, 32))).all()
    # Blocks and norm load from an fbank checkpoint; the fbank patch embedding is skipped.
    fb_full = AudioViTEncoder(arch=NANO)
    with pytest.warns(UserWarning, match='fbank'):
        result = mfcc.load_state_dict(fb_full.state_dict(), strict=False)
    assert set(result.missing_keys) == {'patch_embed.proj.weight', 'patch_embed.proj.bias'}
    assert not result.unexpected_keys
    torch.testing.assert_close(mfcc.blocks[0].attn.qkv.weight, fb_full.blocks[0].attn.qkv.weight)


def test_init_weights_hicmae_style():
    enc = VideoViTEncoder(arch=NANO, img_size=32, num_frames=4)
    enc.init_weights()
    assert torch.all(enc.blocks[0].attn.q_bias == 0)
    assert torch.all(enc.blocks[0].mlp.fc1.bias == 0)
    assert torch.all(enc.norm.weight == 1)
    assert enc.blocks[0].mlp.fc1.weight.std() < 0.03


def test_fusion_encoder_lock_step():
    torch.manual_seed(0)
    fusion = HiCMAEFusionEncoder(embed_dim=16, embed_dim_audio=8, depth=2, num_heads=2)
    fusion.init_weights()
    with torch.no_grad():
        for p in fusion.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    fusion.eval()
    assert fusion.blocks[0].cross_attn.kv.weight.shape == (32, 8)
    assert fusion.blocks_audio[0].cross_attn.kv.weight.shape == (16, 16)
    v, a = torch.randn(2, 5, 16), torch.randn(2, 7, 8)
    out_v, out_a = fusion(v, a)
    rv, ra = v, a
    for blk, blk_a in zip(fusion.blocks, fusion.blocks_audio):
        rv, ra = blk(rv, ra), blk_a(ra, rv)  # audio block sees the video from before
    torch.testing.assert_close(out_v, fusion.norm(rv))
    torch.testing.assert_close(out_a, fusion.norm_audio(ra))
    sv, sa = v, a  # a sequential (not lock-step) update gives a different audio stream
    for blk, blk_a in zip(fusion.blocks, fusion.blocks_audio):
        sv = blk(sv, sa)
        sa = blk_a(sa, sv)
    assert (fusion.norm_audio(sa) - out_a).abs().max() > 1e-4


def test_hicmae_cls_head():
    torch.manual_seed(0)
    head = HiCMAEClsHead(video_dim=4, audio_dim=6, video_depth=3, audio_depth=2, num_classes=2)
    with torch.no_grad():
        head.video_layer_weights.copy_(torch.tensor([0.3, -1., 2.]))
        head.audio_layer_weights.copy_(torch.tensor([1., -0.5]))
        head.fc_norm.weight.add_(torch.randn(20) * 0.1)
    vl = [torch.randn(2, 5, 4) for _ in range(3)]
    al = [torch.randn(2, 7, 6) for _ in range(2)]
    fv, fa = torch.randn(2, 5, 4), torch.randn(2, 7, 6)
    wv = F.softmax(head.video_layer_weights, 0)
    wa = F.softmax(head.audio_layer_weights, 0)
    feat_v = sum(w * t.mean(1) for w, t in zip(wv, vl))
    feat_a = sum(w * t.mean(1) for w, t in zip(wa, al))
    feat = torch.cat([feat_v, feat_a, fv.mean(1), fa.mean(1)], -1)
    assert head.fc_norm.eps == 1e-6 and head.in_channels == 20
    torch.testing.assert_close(head.forward_features(vl, al, fv, fa), head.fc_norm(feat))
    logits = head(vl, al, fv, fa)
    torch.testing.assert_close(logits, head.fc(head.fc_norm(feat)))
    torch.testing.assert_close(head(torch.stack(vl, 2), torch.stack(al, 2), fv, fa), logits)
    samples = [AVDataSample(gt_label=torch.tensor([1])), AVDataSample(gt_label=torch.tensor([0]))]
    loss = head.loss(logits, samples)['loss_cls']
    torch.testing.assert_close(loss, F.cross_entropy(logits, torch.tensor([1, 0])))
    with pytest.raises(ValueError, match='hicmae_cls_head'):
        head(vl[:2], al, fv, fa)
