"""Whole-video prediction from test windows: window positions, stitching, per-sample outputs.

A whole-video model scores a clip of ``T`` frames in windows of ``clip_len`` frames every
``stride`` frames (the last window ends at the last frame). The network that scores one batch
of windows is a callable ``window_fn(inputs) -> dict``; everything around it lives here, so that
:class:`~holaframe.models.detectors.HOLADetector` (the network in PyTorch) and the onnxruntime
detector of :mod:`holaframe.deploy` (the network as an exported graph) cut, stitch and
post-process in the same code:

* :func:`window_starts`: the first frame of each window; :func:`cut_windows` cuts them out of
  the clips as one batch, :func:`window_chunks` groups them ``max_batch`` at a time;
* :func:`stitch_windows`: cut the windows, run ``window_fn`` ``max_batch`` windows at a time,
  average each frame's outputs over the windows that hold it and take the video score
  (``video_score``: the maximum or the mean of the window scores);
* :func:`set_whole_video_predictions`: ``pred_score`` / ``pred_label``, the frame timeline over
  the clip's real frames and the post-processed segments on each data sample.

``window_fn`` takes ``dict(video (N, C, K, H, W), audio (N, K, ...), has_audio (N,))`` and
returns ``clip`` ``(N,)`` (fake probability) and, for a model with a frame-level head, ``frames``
``(N, K)`` (per-frame fake probability) and, with a localisation head, ``offsets`` ``(N, K, 2)``
(distances to the segment's start and end, in frames).
"""

from typing import Callable, Dict, List, Optional, Sequence

import torch

from holaframe.structures import AVDataSample

#: Keys of a ``test_window`` dict.
WINDOW_KEYS = ('clip_len', 'stride', 'max_batch', 'video_score')
#: Rules of the whole-video score over the window scores.
WINDOW_SCORES = ('max', 'mean')

WindowFn = Callable[[Dict[str, torch.Tensor]], Dict[str, torch.Tensor]]


def check_test_window(cfg: Optional[dict]) -> Optional[dict]:
    """A ``test_window`` dict with its defaults filled in (``stride`` = ``clip_len // 2``,
    ``max_batch`` = 8, ``video_score`` = ``'max'``); None stays None.

    Raises:
        ValueError: Unknown keys, no ``clip_len``, a stride outside ``[1, clip_len]`` or an
            unknown ``video_score``.
    """
    if cfg is None:
        return None
    cfg = dict(cfg)
    unknown = set(cfg) - set(WINDOW_KEYS)
    if unknown or 'clip_len' not in cfg:
        raise ValueError(f'hola_detector.py: test_window takes clip_len, stride, max_batch '
                         f'and video_score, got {sorted(cfg)}')
    cfg.setdefault('stride', cfg['clip_len'] // 2)
    cfg.setdefault('max_batch', 8)
    cfg.setdefault('video_score', 'max')
    if not 1 <= cfg['stride'] <= cfg['clip_len']:
        raise ValueError(f'hola_detector.py: test_window stride must be in [1, clip_len], '
                         f'got stride={cfg["stride"]}, clip_len={cfg["clip_len"]}')
    if cfg['video_score'] not in WINDOW_SCORES:
        raise ValueError(f'hola_detector.py: test_window video_score must be one of '
                         f'{WINDOW_SCORES}, got {cfg["video_score"]!r}')
    return cfg


def window_starts(num_frames: int, test_window: Optional[dict]) -> List[int]:
    """First frame of each test window of a clip of ``num_frames`` frames (``[0]`` without
    ``test_window`` or for a clip of at most one window)."""
    if test_window is None or num_frames <= test_window['clip_len']:
        return [0]
    k, s = test_window['clip_len'], test_window['stride']
    starts = list(range(0, num_frames - k + 1, s))
    if starts[-1] != num_frames - k:
        starts.append(num_frames - k)
    return starts


def has_audio_mask(inputs: dict, batch: int, device: torch.device) -> torch.Tensor:
    """``inputs['has_audio']`` as a ``(batch,)`` bool tensor on ``device``; all True without it."""
    flag = inputs.get('has_audio')
    if flag is None:
        return torch.ones(batch, dtype=torch.bool, device=device)
    return flag.to(device=device, dtype=torch.bool).reshape(batch)


def cut_windows(inputs: dict, starts: Sequence[int], clip_len: int) -> Dict[str, torch.Tensor]:
    """The windows beginning at ``starts`` of a batch of whole clips, as one batch.

    Args:
        inputs (dict): ``video`` ``(B, C, T, H, W)``, ``audio`` ``(B, T, ...)`` (one row per
            video frame) and optional ``has_audio`` ``(B,)``.
        starts (Sequence[int]): First frame of each window.
        clip_len (int): Frames per window.

    Returns:
        dict: ``video`` ``(W * B, C, clip_len, H, W)``, ``audio`` and ``has_audio``, window-major
        (row ``j * B + b`` is window ``j`` of clip ``b``).
    """
    video, audio = inputs['video'], inputs['audio']
    batch, num_frames = video.shape[0], video.shape[2]
    if audio.dim() < 3 or audio.shape[1] != num_frames:
        raise ValueError(f'whole_video.py: test_window needs audio with one row per '
                         f'video frame ((B, T, F) with T = {num_frames}), got '
                         f'{tuple(audio.shape)}')
    has_audio = has_audio_mask(inputs, batch, video.device)
    return dict(video=torch.cat([video[:, :, s:s + clip_len] for s in starts]),
                audio=torch.cat([audio[:, s:s + clip_len] for s in starts]),
                has_audio=has_audio.repeat(len(starts)))


def window_chunks(starts: Sequence[int], max_batch: int) -> List[List[int]]:
    """``starts`` in runs of at most ``max_batch`` windows (one network call each)."""
    return [list(starts[i:i + max_batch]) for i in range(0, len(starts), max_batch)]


def stitch_windows(inputs: dict, test_window: Optional[dict],
                   window_fn: WindowFn) -> Dict[str, torch.Tensor]:
    """Score a batch of whole clips window by window and stitch the windows' outputs.

    Args:
        inputs (dict): ``video`` ``(B, C, T, H, W)``, ``audio`` ``(B, T, ...)`` (one row per
            video frame when the clip has more than one window) and optional ``has_audio``.
        test_window (dict, optional): From :func:`check_test_window`; None runs ``window_fn``
            on the whole input.
        window_fn (callable): The network on a batch of windows (module docstring).

    Returns:
        dict: ``clip`` ``(B,)`` (the video score) and, when ``window_fn`` gives them, ``frames``
        ``(B, T)`` and ``offsets`` ``(B, T, 2)``, each frame's mean over the windows holding it.
        A clip of one window returns ``window_fn(inputs)`` itself.
    """
    video = inputs['video']
    batch, num_frames = video.shape[0], video.shape[2]
    starts = window_starts(num_frames, test_window)
    if len(starts) == 1:
        return window_fn(inputs)
    k = test_window['clip_len']
    clips, frames, offsets = [], None, None
    count = video.new_zeros(batch, num_frames, dtype=torch.float32)
    for chunk in window_chunks(starts, test_window['max_batch']):
        res = window_fn(cut_windows(inputs, chunk, k))
        clips.append(res['clip'].view(len(chunk), batch))
        for j, s in enumerate(chunk):
            if 'frames' in res:
                if frames is None:
                    frames = res['frames'].new_zeros(batch, num_frames)
                frames[:, s:s + k] += res['frames'][j * batch:(j + 1) * batch]
            if 'offsets' in res:
                if offsets is None:
                    offsets = res['offsets'].new_zeros(batch, num_frames, 2)
                offsets[:, s:s + k] += res['offsets'][j * batch:(j + 1) * batch]
            count[:, s:s + k] += 1
    clip = torch.cat(clips)  # (W, B)
    out = dict(clip=clip.amax(0) if test_window['video_score'] == 'max' else clip.mean(0))
    if frames is not None:
        out['frames'] = frames / count.to(frames)
    if offsets is not None:
        out['offsets'] = offsets / count.to(offsets)[..., None]
    return out


def set_whole_video_predictions(out: Dict[str, torch.Tensor],
                                data_samples: Optional[Sequence[AVDataSample]],
                                post_processor: Optional[Callable] = None
                                ) -> List[AVDataSample]:
    """Write stitched outputs (:func:`stitch_windows`) onto the data samples.

    Every sample gets ``pred_score`` and ``pred_label``; with ``frames`` also
    ``pred_frame_scores`` and ``pred_frame_times`` over the clip's real frames
    (``num_valid_frames`` of the metainfo: the padding of a clip shorter than a window is left
    out); with ``offsets`` and a ``post_processor`` also ``pred_segments`` ``(N, 3)``.

    Frame times are the centres ``(frame_index + 0.5) / fps`` of the frames in the metainfo's
    ``frame_inds`` (``avg_fps``, default 25); the clip's duration, to which the segments are
    clipped, is ``num_frames / fps`` (the decoded clip's frame count).

    Args:
        out (dict): ``clip`` ``(B,)`` and optional ``frames`` ``(B, T)``, ``offsets``
            ``(B, T, 2)`` (distances in frames).
        data_samples (Sequence[AVDataSample], optional): One per clip; None makes new ones.
        post_processor (callable, optional): ``(scores, offsets_s, times, duration, step=,
            video_score=) -> (N, 3)`` tensor, e.g.
            :class:`~holaframe.models.postprocessors.SegmentPostProcessor`.

    Returns:
        list[AVDataSample]: The samples.
    """
    batch = out['clip'].shape[0]
    if data_samples is None:
        data_samples = [AVDataSample() for _ in range(batch)]
    for b, sample in enumerate(data_samples):
        p = out['clip'][b]
        sample.set_pred_score(p)
        sample.set_pred_label((p > 0.5).long())  # argmax of (1 - p, p)
        if 'frames' not in out:
            continue
        meta = sample.metainfo
        fps = float(meta.get('avg_fps', 25.0))
        total = out['frames'].shape[1]
        valid = int(meta.get('num_valid_frames', total) or total)
        valid = max(1, min(valid, total))
        inds = meta.get('frame_inds')
        if inds is not None and len(inds) >= valid:
            times = (torch.as_tensor(inds[:valid], dtype=torch.float64) + 0.5) / fps
        else:
            times = (torch.arange(valid, dtype=torch.float64) + 0.5) / fps
        scores = out['frames'][b, :valid].float().cpu()
        sample.pred_frame_scores = scores
        sample.pred_frame_times = times.float()
        if 'offsets' not in out or post_processor is None:
            continue
        step = float(torch.diff(times).median()) if valid > 1 else 1.0 / fps
        duration = float(meta.get('num_frames') or valid) / fps
        dists = out['offsets'][b, :valid].float().cpu() * step
        sample.pred_segments = post_processor(
            scores.numpy(), dists.numpy(), times.numpy(), duration, step=step,
            video_score=float(p))
    return list(data_samples)
