"""ClsHead (cross-entropy), TopKFramePooling and FrameAuxHead."""

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.heads import ClsHead, FrameAuxHead, TopKFramePooling
from holaframe.models.heads.frame_aux_head import resize_frame_labels
from holaframe.structures import AVDataSample


def _samples(labels, frame_labels=None):
    out = []
    for i, label in enumerate(labels):
        s = AVDataSample().set_gt_label(label)
        if frame_labels is not None and frame_labels[i] is not None:
            s.frame_labels = torch.as_tensor(frame_labels[i], dtype=torch.float32)
        out.append(s)
    return out


def test_cls_head_cross_entropy_ignores_unlabeled():
    torch.manual_seed(0)
    head = ClsHead(8)
    logits = head(torch.randn(3, 8))
    assert logits.shape == (3, 2)
    loss = head.loss(logits, _samples([1, 0, -1]))['loss_cls']
    torch.testing.assert_close(loss, F.cross_entropy(logits[:2], torch.tensor([1, 0])))
    assert head.loss(logits, _samples([-1, -1, -1]))['loss_cls'] == 0


def test_top_k_pooling():
    x = torch.tensor([[0.0, 5.0, 1.0, 3.0], [2.0, -1.0, 0.0, 4.0]])
    torch.testing.assert_close(TopKFramePooling()(x), torch.tensor([5.0, 4.0]))
    torch.testing.assert_close(TopKFramePooling(k=2)(x), torch.tensor([4.0, 3.0]))
    torch.testing.assert_close(TopKFramePooling(ratio=0.75)(x), torch.tensor([3.0, 2.0]))
    with pytest.raises(ValueError):
        TopKFramePooling(ratio=0.0)


def test_resize_frame_labels_keeps_short_segments():
    labels = torch.zeros(64)
    labels[10:13] = 1
    small = resize_frame_labels(labels, 16)
    assert small.shape == (16,) and small.sum() >= 1 and small[2] == 1
    big = resize_frame_labels(torch.tensor([0.0, 1.0]), 4)
    torch.testing.assert_close(big, torch.tensor([0.0, 0.0, 1.0, 1.0]))


def test_sync_features_peak_at_the_true_offset():
    head = FrameAuxHead(4, hidden_channels=8, sync_offsets=2)
    torch.manual_seed(0)
    f_v = torch.randn(1, 10, 4)
    f_a = torch.roll(f_v, shifts=1, dims=1)  # audio lags video by one frame: f_a[t+1] = f_v[t]
    sims = head._sync_features(f_v, f_a)
    assert sims.shape == (1, 10, 5)
    # offsets -2..2; d = +1 is index 3; positions 0..8 have a valid partner.
    torch.testing.assert_close(sims[0, :9, 3], torch.ones(9))


def test_frame_aux_head_losses():
    torch.manual_seed(0)
    head = FrameAuxHead(4, hidden_channels=8, sync_offsets=1,
                        pooling=dict(type='TopKFramePooling', k=2))
    fused = torch.randn(3, 16, 4)  # L = 8
    frame_logits = head(fused)
    assert frame_logits.shape == (3, 8)
    fl = torch.zeros(32)
    fl[4:8] = 1
    samples = _samples([1, 0, 1], [fl, None, None])  # the last fake has no frame labels
    losses = head.loss(frame_logits, samples)
    target0 = resize_frame_labels(fl, 8)
    expected_frame = F.binary_cross_entropy_with_logits(
        frame_logits[:2], torch.stack([target0, torch.zeros(8)]))
    torch.testing.assert_close(losses['loss_frame'], expected_frame)
    pooled = frame_logits.topk(2, dim=1).values.mean(1)
    torch.testing.assert_close(
        losses['loss_clip_aux'],
        F.binary_cross_entropy_with_logits(pooled, torch.tensor([1.0, 0.0, 1.0])))


def test_window_label_from_frame_labels():
    torch.manual_seed(0)
    logits = torch.randn(4, 2)
    hit, miss = torch.zeros(6), torch.zeros(6)
    hit[2:4] = 1
    # Fake clip whose window holds the fake frames, fake clip whose window misses them, a real
    # clip and an unlabeled clip (stays ignored).
    samples = _samples([1, 1, 0, -1], [hit, miss, miss, hit])
    loss = ClsHead(8, window_label=True).loss(logits, samples)['loss_cls']
    torch.testing.assert_close(loss, F.cross_entropy(logits[:3], torch.tensor([1, 0, 0])))
    # Default: the clip label.
    loss = ClsHead(8).loss(logits, samples)['loss_cls']
    torch.testing.assert_close(loss, F.cross_entropy(logits[:3], torch.tensor([1, 1, 0])))
    # Samples without frame labels keep their clip label.
    loss = ClsHead(8, window_label=True).loss(logits[:1], _samples([1]))['loss_cls']
    torch.testing.assert_close(loss, F.cross_entropy(logits[:1], torch.tensor([1])))

    head = FrameAuxHead(4, hidden_channels=8, sync_offsets=0, window_label=True)
    frame_logits = torch.randn(3, 6)
    losses = head.loss(frame_logits, _samples([1, 1, 0], [hit, miss, miss]))
    pooled = frame_logits.max(1).values
    torch.testing.assert_close(
        losses['loss_clip_aux'],
        F.binary_cross_entropy_with_logits(pooled, torch.tensor([1.0, 0.0, 0.0])))
