"""The scoring web service: a FastAPI app around one loaded detector (``tools/serve.py``).

:func:`create_app` serves ``POST /v1/score`` (a video upload in, JSON out), ``GET /healthz`` and
``GET /`` (a single page). FastAPI, uvicorn and python-multipart come with the ``serve`` extra;
they are imported only by :mod:`.app`. See docs/serving.md.
"""

from .errors import ServiceError
from .probe import VideoInfo, probe_video
from .scorer import VideoScorer, segments_from_scores
from .settings import ServiceSettings

__all__ = ['ServiceError', 'ServiceSettings', 'VideoInfo', 'VideoScorer', 'create_app',
           'probe_video', 'segments_from_scores']


def create_app(*args, **kwargs):
    """Build the FastAPI app (see :func:`holaframe.apis.service.app.create_app`)."""
    from .app import create_app as _create_app
    return _create_app(*args, **kwargs)
