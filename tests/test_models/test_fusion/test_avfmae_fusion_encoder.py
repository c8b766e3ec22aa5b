"""AVF-MAE++ fusion encoder: shapes, its default context, init and checks."""

import pytest
import torch

from holaframe.models.fusion import AVFMAEFusionEncoder


def _encoder(**kw):
    torch.manual_seed(0)
    enc = AVFMAEFusionEncoder(embed_dim=16, depth=2, num_heads=2, **kw)
    enc.init_weights()
    return enc.eval()


def test_streams_of_different_lengths_keep_their_shapes():
    enc = _encoder()
    v, a = torch.randn(2, 12, 16), torch.randn(2, 5, 16)
    fv, fa = enc(v, a)
    assert fv.shape == v.shape and fa.shape == a.shape
    # The default context is the concatenated mean tokens (AVF-MAE++'s pre-training).
    context = torch.cat([v.mean(1, keepdim=True), a.mean(1, keepdim=True)], -1)
    gv, ga = enc(v, a, context)
    assert torch.equal(fv, gv) and torch.equal(fa, ga)
    # Another context changes both streams (they read it through the shared cross-attention).
    hv, ha = enc(v, a, torch.randn(2, 4, 32))
    assert not torch.allclose(hv, fv) and not torch.allclose(ha, fa)


def test_init_and_layout():
    enc = _encoder(drop_path_rate=0.2)
    assert enc.blocks[0].lv1.bias.abs().sum() == 0 and enc.vselectfusion.bias.abs().sum() == 0
    assert enc.drop_path.drop_prob == pytest.approx(0.1)  # half the rate after the layers
    assert enc.blocks[1].drop_path.drop_prob == pytest.approx(0.2)
    keys = set(enc.state_dict())
    assert 'refinement.conv_audio.1.running_var' in keys and 'refinement.layer_norm.weight' in keys
    assert enc.refinement.layer_norm.eps == 1e-5 and enc.norm.eps == 1e-6


def test_widths_must_match_and_training_runs():
    enc = _encoder(with_cp=True)
    with pytest.raises(ValueError, match='width 16'):
        enc(torch.randn(2, 4, 16), torch.randn(2, 4, 8))
    enc.train()
    v = torch.randn(2, 4, 16, requires_grad=True)
    fv, fa = enc(v, torch.randn(2, 3, 16))
    (fv.sum() + fa.sum()).backward()
    assert v.grad is not None and enc.blocks[0].la1.weight.grad is not None
