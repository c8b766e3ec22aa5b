"""LocalizationHead: shapes, gradients, targets in positions, losses only with targets."""

import pytest
import torch

from holaframe.models.heads import LocalizationHead
from holaframe.models.heads.localization_head import diou_loss_1d
from holaframe.structures import AVDataSample


def _sample(labels, dists, fps=25.0, gt=1):
    s = AVDataSample()
    s.set_gt_label(gt)
    s.frame_labels = torch.tensor(labels, dtype=torch.float32)
    s.loc_targets = torch.tensor(dists, dtype=torch.float32)
    s.set_metainfo(dict(avg_fps=fps, file='a.mp4'))
    return s


def test_shapes_and_nonnegative_offsets():
    torch.manual_seed(0)
    head = LocalizationHead(in_channels=8, hidden_channels=16, dilations=(1, 2), sync_offsets=2,
                            sync_source='fused')
    out = head(torch.randn(3, 2 * 20, 8))
    assert out['cls_logits'].shape == (3, 20)
    assert out['offsets'].shape == (3, 20, 2)
    assert bool((out['offsets'] >= 0).all())


def test_aligned_source_needs_aligned_streams():
    head = LocalizationHead(in_channels=8, hidden_channels=8, sync_source='aligned')
    with pytest.raises(ValueError, match='localization_head.py'):
        head(torch.randn(1, 10, 8))
    out = head(torch.randn(1, 10, 8), aligned=(torch.randn(1, 5, 8), torch.randn(1, 5, 8)))
    assert out['cls_logits'].shape == (1, 5)
    with pytest.raises(ValueError, match='2L'):
        head(torch.randn(1, 9, 8))


def test_diou_loss_values():
    t = torch.tensor([[2.0, 3.0]])
    assert float(diou_loss_1d(t, t)) == pytest.approx(0.0, abs=1e-6)
    # Same length, shifted by 1: I = 4, U = 6, centre distance 1, enclosing 6.
    loss = diou_loss_1d(torch.tensor([[1.0, 4.0]]), t)
    assert float(loss) == pytest.approx(1 - 4 / 6 + (1 / 6) ** 2, rel=1e-5)


def test_position_targets_seconds_to_positions():
    # 10 frames at 25 fps; frames 3-6 inside [0.12, 0.28) s.
    labels = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    dists = [[0, 0]] * 3 + [[0.02, 0.14], [0.06, 0.10], [0.10, 0.06], [0.14, 0.02]] + [[0, 0]] * 3
    s = _sample(labels, dists)
    lab, d = LocalizationHead.position_targets(s, 10, torch.device('cpu'))
    assert lab.tolist() == labels
    assert torch.allclose(d[3], torch.tensor([0.5, 3.5]))  # seconds * 25 positions / s
    # Half the positions: each covers 2 frames, 12.5 positions per second.
    lab5, d5 = LocalizationHead.position_targets(s, 5, torch.device('cpu'))
    assert lab5.tolist() == [0, 1, 1, 0, 0]
    # position 1 centre = frame 2.5 -> frame 3, shifted back half a frame (0.02 s).
    assert torch.allclose(d5[1], torch.tensor([0.0, 0.16 * 12.5]), atol=1e-5)


def test_loss_only_with_targets_and_gradients():
    torch.manual_seed(0)
    head = LocalizationHead(in_channels=8, hidden_channels=8, dilations=(1, ), sync_offsets=0)
    head.eval()  # batch norm with running statistics: the samples stay independent
    fused = torch.randn(2, 2 * 10, 8, requires_grad=True)
    out = head(fused)
    no_targets = [AVDataSample(), AVDataSample()]
    for s in no_targets:
        s.set_gt_label(1)
    losses = head.loss(out, no_targets)
    assert losses['loss_loc_cls'].item() == 0.0 and losses['loss_loc_reg'].item() == 0.0
    labels = [0] * 4 + [1] * 3 + [0] * 3
    dists = [[0, 0]] * 4 + [[0.02, 0.10], [0.06, 0.06], [0.10, 0.02]] + [[0, 0]] * 3
    samples = [_sample(labels, dists), AVDataSample()]
    samples[1].set_gt_label(0)
    losses = head.loss(out, samples)
    assert float(losses['loss_loc_cls']) > 0 and float(losses['loss_loc_reg']) > 0
    (losses['loss_loc_cls'] + losses['loss_loc_reg']).backward()
    assert fused.grad is not None
    assert float(fused.grad[0].abs().sum()) > 0
    assert float(fused.grad[1].abs().sum()) == 0  # the sample without targets adds nothing
    for name, p in head.named_parameters():
        assert p.grad is not None, name


def test_loss_weights_and_focal():
    torch.manual_seed(0)
    head = LocalizationHead(in_channels=4, hidden_channels=4, dilations=(1, ), sync_offsets=0,
                            cls_loss_weight=0.0, reg_loss_weight=2.0, focal_gamma=2.0)
    out = head(torch.randn(1, 2 * 6, 4))
    labels = [0, 1, 1, 1, 0, 0]
    dists = [[0, 0], [0.02, 0.10], [0.06, 0.06], [0.10, 0.02], [0, 0], [0, 0]]
    losses = head.loss(out, [_sample(labels, dists)])
    assert float(losses['loss_loc_cls']) == 0.0
    ref = head.loss(out, [_sample(labels, dists)])['loss_loc_reg']
    assert float(ref) > 0
