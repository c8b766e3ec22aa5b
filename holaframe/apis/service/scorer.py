"""Scoring one video file for the service: face tracks, clip score, frame timeline, crop image.

The config's test pipeline is split after its frame decoder: the decoded frames go through
:class:`~holaframe.datasets.transforms.FaceTrackCrop` once per scored face track, then through
the rest of the pipeline and the model.

A model with a localisation head (``loc_head``, configs/localization/) gives the whole video's
per-frame fake probability and its post-processed segments (``pred_segments``): the segments
whose confidence reaches the threshold are reported, and the ranked proposals with their
confidences. A model with only a frame-level auxiliary head (``aux_head``, e.g. the dense demo
model) gives a per-frame fake probability captured from that head's output; its runs above the
threshold are reported as segments. The JSON says which source was used (``localization``).
"""

import base64
import copy
import threading
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from holaframe.datasets.transforms import FaceTrackCrop, NoFaceError
from holaframe.datasets.transforms.face_detection import build_face_detector

from ..inference import test_pipeline_cfg
from .errors import ServiceError
from .probe import VideoInfo

__all__ = ['VideoScorer', 'segments_from_scores']

#: Pipeline steps after which face tracking runs (frames decoded, not yet resized).
DECODERS = ('DecordDecode', )

LOCALIZATION_NOTE = ('Frame scores come from the model\'s frame-level auxiliary head, trained '
                     'with the clip head; this model has no temporal localisation head, so '
                     'segments are runs of frames above the threshold, not calibrated '
                     'boundaries.')
HEAD_LOCALIZATION_NOTE = ('Segments come from the model\'s temporal localisation head (per-frame '
                          'fake probability and boundary distances, then non-maximum '
                          'suppression): those with confidence at or above the threshold are '
                          'listed; proposals holds the best ranked ones with their confidence.')
NO_LOCALIZATION_NOTE = ('This model scores whole clips: it has no frame-level or temporal '
                        'localisation head, so there is no per-frame timeline and no segments.')

#: Most ranked proposals reported by a model with a localisation head.
MAX_PROPOSALS = 10


def segments_from_scores(times: Sequence[float], scores: Sequence[float],
                         threshold: float) -> List[List[float]]:
    """``[start, end]`` seconds of each run of frames with ``score >= threshold``.

    A run covers its frames from the first frame's time to the time of the frame after its
    last one (one frame interval past the last time at the end of the clip).
    """
    t = np.asarray(times, np.float64)
    s = np.asarray(scores, np.float64)
    if t.size == 0:
        return []
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.04
    above = s >= threshold
    out, start = [], None
    for i, flag in enumerate(above):
        if flag and start is None:
            start = i
        if start is not None and (not flag or i == len(above) - 1):
            last = i if flag else i - 1
            end = t[last + 1] if last + 1 < t.size else t[last] + step
            out.append([round(float(t[start]), 3), round(float(end), 3)])
            start = None
    return out


def _jpeg_data_url(img: np.ndarray, side: int = 160) -> str:
    """A small JPEG of an RGB image as a ``data:`` URL."""
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (max(int(w * scale), 1), max(int(h * scale), 1)),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode('.jpg', cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return ''
    return 'data:image/jpeg;base64,' + base64.b64encode(buf.tobytes()).decode('ascii')


class VideoScorer:
    """A loaded detector and its split test pipeline; thread-safe ``score(path)``.

    Args:
        model (nn.Module): From :func:`holaframe.apis.init_detector` (``model.cfg`` set).
        threshold (float): ``label`` is ``fake`` when ``score >= threshold``.
        face_crop (bool): Track faces and crop (``FaceTrackCrop``) before the model's own
            resizing; False feeds the frames as decoded.
        face_detector (str): ``'auto'`` (dlib's HOG, else Haar), ``'dlib_hog'`` or ``'haar'``.
        on_no_face (str): ``'center'`` (score the centre square, ``face.found`` false) or
            ``'error'`` (422).
        max_tracks (int): Most face tracks scored when a request asks for every track.
        identity (dict, optional): Model/config identity reported with each result.
    """

    def __init__(self, model: nn.Module, threshold: float = 0.5, face_crop: bool = True,
                 face_detector: str = 'auto', on_no_face: str = 'center', max_tracks: int = 4,
                 identity: Optional[Dict] = None) -> None:
        if not hasattr(model, 'cfg'):
            raise AttributeError('scorer.py: model.cfg is missing; build the model with '
                                 'holaframe.apis.init_detector()')
        if on_no_face not in ('center', 'error'):
            raise ValueError(f"scorer.py: on_no_face must be 'center' or 'error', got "
                             f'{on_no_face!r}')
        self.model = model.eval()
        self.threshold = float(threshold)
        self.face_crop = face_crop
        self.face_detector = face_detector
        self.on_no_face = on_no_face
        self.max_tracks = int(max_tracks)
        self.identity = dict(identity or {})
        pipeline = test_pipeline_cfg(model.cfg)
        pos = [i for i, t in enumerate(pipeline) if t.get('type') in DECODERS]
        if not pos:
            raise ValueError(f'scorer.py: the test pipeline has none of {DECODERS}: cannot '
                             f'insert face tracking')
        scope = model.cfg.get('default_scope', 'holaframe')
        with DefaultScope.overwrite_default_scope(scope):
            self.pre = Compose(pipeline[:pos[0] + 1])
            self.post = Compose(pipeline[pos[0] + 1:])
        self.face = FaceTrackCrop(detector=face_detector, on_no_face=on_no_face)
        self._local = threading.local()  # one detector per worker thread (see _face_crop)
        has_aux_head = getattr(model, 'aux_head', None) is not None
        self.has_loc_head = getattr(model, 'loc_head', None) is not None
        # An exported graph (OnnxDetector) returns its frame scores on the sample instead.
        self.localizes = (has_aux_head or self.has_loc_head
                          or bool(getattr(model, 'has_frame_scores', False)))
        self._frame_logits = threading.local()
        if has_aux_head:
            model.aux_head.register_forward_hook(self._keep_frame_logits)

    def _face_crop(self, track: int) -> FaceTrackCrop:
        """``self.face`` for ``track``, with this thread's own detector (OpenCV's cascade and
        dlib's detector are not documented as safe to share between threads)."""
        detector = getattr(self._local, 'detector', None)
        if detector is None:
            detector = self._local.detector = build_face_detector(
                self.face.detector_name, self.face.min_face, self.face.score_thr)
        face = copy.copy(self.face)
        face.track_index = track
        face._detector = detector
        return face

    def _keep_frame_logits(self, module, args, output) -> None:
        self._frame_logits.value = output.detach().float().cpu()

    def _run_model(self, data: dict):
        """Clip score, frame probabilities (or None), their start times in seconds (None: from
        the sampled frame indices) and the data sample of one packed sample."""
        self._frame_logits.value = None
        with torch.no_grad():
            sample = self.model.test_step(pseudo_collate([data]))[0]
        score = float(sample.pred_score.reshape(-1)[0])
        if 'pred_frame_times' in sample:  # whole-video prediction over the real frames
            fps = float(sample.metainfo.get('avg_fps') or 25.0)
            # The model's times are frame centres; the timeline reports frame start times.
            times = (sample.pred_frame_times.double().cpu().numpy() - 0.5 / fps).round(3)
            return score, sample.pred_frame_scores.float().cpu().numpy(), times.tolist(), sample
        logits = self._frame_logits.value
        frames = None if logits is None else torch.sigmoid(logits[0]).numpy()
        if frames is None and 'pred_frame_scores' in sample:  # an exported clip graph
            frames = sample.pred_frame_scores.float().cpu().numpy()
        return score, frames, None, sample

    def _times(self, meta: dict, length: int, fps: float) -> List[float]:
        inds = np.asarray(meta.get('frame_inds', np.arange(length)), np.float64).reshape(-1)
        rate = float(meta.get('avg_fps') or fps or 25.0)
        pos = np.linspace(0, max(inds.size - 1, 0), length)
        return (np.interp(pos, np.arange(inds.size), inds) / rate).round(3).tolist()

    def score(self, path: str, info: VideoInfo, all_tracks: bool = False) -> Dict:
        """Score one probed video file.

        Args:
            path (str): The video file.
            info (VideoInfo): Its probe (container facts reported back).
            all_tracks (bool): Score every face track (up to ``max_tracks``) instead of the
                largest only.

        Returns:
            dict: The JSON body of ``POST /v1/score`` without the request timings.

        Raises:
            ServiceError: 422 when the file cannot be decoded, or has no face with
                ``on_no_face='error'``.
        """
        timings = {}
        start = time.perf_counter()
        results = dict(filename=path, file='upload', sample_idx=0, gt_label=-1,
                       subset='inference')
        try:
            decoded = self.pre(results)
        except Exception as exc:  # noqa: BLE001 - any decoding failure is the file's fault
            raise ServiceError(422, 'undecodable_video',
                               f'the video could not be decoded: {type(exc).__name__}: '
                               f'{exc}'.replace(path, 'upload')) from None
        timings['decode_s'] = time.perf_counter() - start
        entries = []
        track = 0
        while True:
            t0 = time.perf_counter()
            item = dict(decoded)
            if self.face_crop:
                face = self._face_crop(track)
                try:
                    item = face(item)
                except NoFaceError:
                    raise ServiceError(422, 'no_face',
                                       f'no face found in the video ({face.detector.name} '
                                       f'detector, faces of at least {self.face.min_face} px '
                                       f'searched on {self.face.num_keyframes} frames)'
                                       ) from None
            t1 = time.perf_counter()
            # The later steps (a mouth crop, resizing) replace item['imgs']: keep the face crop.
            face_frame = np.asarray(item['imgs'][len(item['imgs']) // 2]).copy()
            data = self.post(item)
            t2 = time.perf_counter()
            score, frames, times, sample = self._run_model(data)
            t3 = time.perf_counter()
            if score != score:
                raise ServiceError(500, 'model_nan', 'the model returned NaN for this video')
            entries.append(self._entry(item, face_frame, score, frames, times, sample, info, track))
            timings['face_s'] = timings.get('face_s', 0.0) + t1 - t0
            timings['features_s'] = timings.get('features_s', 0.0) + t2 - t1
            timings['model_s'] = timings.get('model_s', 0.0) + t3 - t2
            track += 1
            if not (all_tracks and self.face_crop and track < min(
                    item.get('num_face_tracks', 0), self.max_tracks)):
                break
        main = entries[0]
        body = dict(main)
        body['tracks'] = entries if all_tracks else None
        body['video'] = info.to_json()
        body['model'] = dict(self.identity)
        body['timings'] = {k: round(v, 4) for k, v in timings.items()}
        return body

    def _entry(self, item: dict, face_frame: np.ndarray, score: float,
               frames: Optional[np.ndarray], times: Optional[List[float]], sample,
               info: VideoInfo, track: int) -> Dict:
        meta = sample.metainfo
        entry = dict(score=round(score, 6), label='fake' if score >= self.threshold else 'real',
                     threshold=self.threshold,
                     has_audio=bool(meta.get('has_audio', info.has_audio)))
        if frames is not None and times is None:
            times = self._times(meta, len(frames), info.fps)
            # A clip shorter than the sampled window is padded with repeated frames: one score
            # per video frame is kept (num_valid_frames of DenseSampleFrames).
            valid = int(meta.get('num_valid_frames') or len(frames))
            if len(frames) == len(meta.get('frame_inds', ())) and 0 < valid < len(frames):
                frames, times = frames[:valid], times[:valid]
        if frames is not None:
            scores = [round(float(v), 5) for v in frames]
            entry['timeline'] = dict(times=times, scores=scores)
            if 'pred_segments' in sample:
                # Rows [confidence, start, end], best first (the post-processor's contract).
                rows = sample.pred_segments.float().cpu().numpy().reshape(-1, 3)
                entry['segments'] = sorted(
                    [round(float(s), 3), round(float(e), 3)]
                    for c, s, e in rows if c >= self.threshold)
                entry['proposals'] = [dict(start=round(float(s), 3), end=round(float(e), 3),
                                           confidence=round(float(c), 5))
                                      for c, s, e in rows[:MAX_PROPOSALS]]
                entry['localization'] = dict(available=True, source='localization_head',
                                             note=HEAD_LOCALIZATION_NOTE)
            else:
                entry['segments'] = segments_from_scores(times, scores, self.threshold)
                entry['proposals'] = None
                entry['localization'] = dict(available=True, source='frame_aux_head',
                                             note=LOCALIZATION_NOTE)
        else:
            entry['timeline'] = None
            entry['segments'] = None
            entry['proposals'] = None
            entry['localization'] = dict(available=False, source=None,
                                         note=NO_LOCALIZATION_NOTE)
        if self.face_crop:
            entry['face'] = dict(
                found=bool(item.get('face_found')), detector=item.get('face_detector'),
                track_index=track if item.get('face_found') else None,
                num_tracks=int(item.get('num_face_tracks', 0)),
                tracks=item.get('face_tracks', []),
                box=[int(v) for v in item['face_box']],
                visible_fraction=round(float(np.mean(item['face_visible'])), 3),
                crop=_jpeg_data_url(face_frame))
        else:
            entry['face'] = None
        return entry

