"""Generated data, tiny models and small learning tasks for tests, demos, benchmarks and tools.

Like ``mmpretrain.testing`` and ``mmdet.testing``, this package sits above ``datasets`` and
``models`` (it uses both) and is imported by tests, benchmarks and tools, never by the library.

* :mod:`.synthetic_avdf`: the synthetic AV-Deepfake1M++ dataset generator
  (``tools/data/make_synthetic_avdf.py``) and its clip writer.
* :mod:`.photo_avdf`: a second, independent generator (talking photographs from
  :mod:`.photo_faces`, source-filter speech from :mod:`.source_filter_speech`, tool-like
  lip-sync and TTS artefacts; ``--generator photo``).
* :mod:`.shortcut_audit`: AUCs of trivial features (duration, loudness, leading silence, file
  size) as fake scores.
* :mod:`.dummy_batch`: the smallest dataset every config reads, and a real batch for a config.
* :mod:`.indexed_clips`: tiny clips whose frames encode their own index.
* :mod:`.tiny_detector`: a tiny HOLA detector config and a checkpoint of it.
* :mod:`.tiny_dense_detector`: a tiny dense detector with a frame-level head (timelines).
* :mod:`.tiny_localization_detector`: a tiny whole-video localisation detector.
* :mod:`.face_scenes`: a real photograph pasted into 1280x720 frames; face-tracking scores.
* :mod:`.service_client`: the scoring service on a free port in a thread, and an HTTP client.
* :mod:`.official_sdk`: a venv holding the challenge's official SDK (``avdeepfake1m``), for the
  Track 2 parity test.
* :mod:`.av_sync_tokens`: a token-level audio-visual synchrony task for the fusion path.
* :mod:`.reference_code`: what the reference implementations (HiCMAE, AVF-MAE++) need to run
  from a local checkout (a timm stand-in when timm cannot be imported).
* :mod:`.distributed`: a probe hook, a toy detector and a toy dataset for multi-process runs;
  importing it registers them, so it is imported only by name (``custom_imports``).
"""

from .dummy_batch import build_dummy_batch, make_tiny_avdf
from .indexed_clips import decode_index, indexed_frames, make_indexed_clip, sine_tone
from .photo_avdf import generate_photo_avdf
from .shortcut_audit import SHORTCUT_FEATURES, shortcut_aucs, shortcut_features
from .synthetic_avdf import SUBSETS, generate_synthetic_avdf, synthesize_speech, write_av_clip
from .tiny_detector import (
    INT8_SCORE_TOL,
    tiny_config,
    tiny_model,
    tiny_pipeline,
    write_tiny_detector,
)

__all__ = [
    'build_dummy_batch', 'make_tiny_avdf', 'SUBSETS', 'generate_synthetic_avdf',
    'synthesize_speech', 'write_av_clip', 'decode_index', 'indexed_frames', 'make_indexed_clip',
    'sine_tone', 'INT8_SCORE_TOL', 'tiny_config', 'tiny_model', 'tiny_pipeline',
    'write_tiny_detector', 'generate_photo_avdf', 'SHORTCUT_FEATURES', 'shortcut_aucs',
    'shortcut_features'
]
