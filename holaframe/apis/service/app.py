"""The FastAPI app: ``POST /v1/score``, ``GET /healthz`` and the single page ``GET /``.

Scoring runs on a thread pool of ``settings.workers`` threads, never on the event loop. A
request is admitted when fewer than ``workers + queue_size`` requests are in progress
(uploading, waiting or being scored); otherwise it gets 503 with ``Retry-After`` before its
body is read. Every upload is streamed to a temporary file that is removed when the response
is ready, whatever happened; nothing a user sends is kept.
"""

import asyncio
import contextlib
import hmac
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from .errors import ServiceError
from .probe import probe_video
from .scorer import VideoScorer
from .settings import ServiceSettings
from .upload import receive_upload

__all__ = ['create_app']

logger = logging.getLogger('holaframe.service')

#: Headers of every JSON answer: results are never cached by a proxy or browser.
NO_STORE = {'Cache-Control': 'no-store'}

#: The page loads nothing from elsewhere: inline script and style, images from data: URLs.
PAGE_HEADERS = {
    'Content-Security-Policy': ("default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
                                "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
}


def _page() -> str:
    return resources.files(__package__).joinpath('static/index.html').read_text('utf-8')


class _Admission:
    """Requests in progress; only touched from the event loop thread (no lock needed)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.active = 0
        self.served = 0
        self.rejected = 0


def create_app(scorer: VideoScorer, settings: Optional[ServiceSettings] = None) -> FastAPI:
    """The app around a loaded :class:`VideoScorer`.

    Args:
        scorer (VideoScorer): The model and its pipeline (loaded once, shared by the workers).
        settings (ServiceSettings, optional): Limits, workers, queue and API key.
    """
    settings = settings or ServiceSettings()
    executor = ThreadPoolExecutor(max_workers=settings.workers,
                                  thread_name_prefix='holaframe-score')

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title='holaframe deepfake scoring', version='1', docs_url=None,
                  redoc_url=None, lifespan=lifespan)
    admission = _Admission(settings.workers + settings.queue_size)
    app.state.scorer = scorer
    app.state.settings = settings
    app.state.admission = admission
    app.state.executor = executor
    page = _page()
    key = settings.api_key.encode('utf-8') if settings.api_key else None

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.to_json(), status_code=exc.status,
                            headers={**NO_STORE, **exc.headers})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The message may name server paths: it goes to the server's log, not to the client.
        logger.exception('unexpected error while serving %s', request.url.path)
        err = ServiceError(500, 'internal_error', f'the server failed ({type(exc).__name__}); '
                           f'the video was not kept')
        return JSONResponse(err.to_json(), status_code=500, headers=NO_STORE)

    def check_key(request: Request) -> None:
        if key is None:
            return
        given = request.headers.get('x-api-key', '')
        auth = request.headers.get('authorization', '')
        if not given and auth.lower().startswith('bearer '):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode('utf-8'), key):
            raise ServiceError(401, 'unauthorized', 'a valid API key is required (header '
                               'X-API-Key or Authorization: Bearer)',
                               headers={'WWW-Authenticate': 'Bearer'})

    @app.get('/', response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get('/healthz')
    async def healthz() -> JSONResponse:
        return JSONResponse(dict(status='ok', model=scorer.identity,
                                 localizes=scorer.localizes, face_crop=scorer.face_crop,
                                 limits=settings.public(), in_progress=admission.active,
                                 capacity=admission.capacity, served=admission.served,
                                 rejected=admission.rejected), headers=NO_STORE)

    @app.post('/v1/score')
    async def score(request: Request, tracks: str = 'largest') -> JSONResponse:
        t_start = time.perf_counter()
        check_key(request)
        if tracks not in ('largest', 'all'):
            raise ServiceError(422, 'bad_parameter',
                               f"tracks must be 'largest' or 'all', got {tracks!r}")
        if admission.active >= admission.capacity:
            admission.rejected += 1
            raise ServiceError(503, 'busy', f'{admission.active} videos are being scored or '
                               f'waiting (capacity {admission.capacity}); retry later',
                               headers={'Retry-After': str(settings.retry_after_s)})
        admission.active += 1
        path = None
        loop = asyncio.get_running_loop()
        try:
            path = await receive_upload(request, settings.max_upload_bytes, settings.tmp_dir)
            t_upload = time.perf_counter()
            info = await loop.run_in_executor(None, probe_video, path, settings.max_duration_s,
                                              settings.max_side)
            t_probe = time.perf_counter()
            started = {}

            def work():
                started['t'] = time.perf_counter()
                return scorer.score(path, info, all_tracks=tracks == 'all')

            body = await loop.run_in_executor(executor, work)
            t_done = time.perf_counter()
            inside = sum(body['timings'].values())
            body['timings'].update(
                upload_s=round(t_upload - t_start, 4), probe_s=round(t_probe - t_upload, 4),
                queue_s=round(started['t'] - t_probe, 4), total_s=round(t_done - t_start, 4),
                server_overhead_s=round((t_done - t_start) - inside, 4))
            admission.served += 1
            return JSONResponse(body, headers=NO_STORE)
        finally:
            admission.active -= 1
            if path is not None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass

    return app
