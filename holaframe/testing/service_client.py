"""Run the scoring service in a background thread and call it over HTTP (tests, benchmarks).

:func:`running_server` serves an app with uvicorn on a free loopback port for the duration of a
``with`` block; :func:`post_video` sends a file as multipart (field ``video``) or as the raw
body with the standard library's ``http.client``, optionally in chunks without a
``Content-Length`` (chunked transfer encoding).
"""

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from http.client import HTTPConnection
from typing import Dict, Iterator, Optional, Tuple
from urllib.parse import urlsplit

__all__ = ['free_port', 'running_server', 'post_video', 'get_json']


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(app, port: Optional[int] = None, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` on ``http://127.0.0.1:PORT`` in a thread; yields the base URL."""
    import uvicorn

    from holaframe.utils.server_logging import configure_uvicorn_logging
    port = port or free_port()
    configure_uvicorn_logging()
    # log_config=None: uvicorn's dictConfig would close every logging handler of the process.
    server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=port, log_level='warning',
                                           log_config=None, lifespan='on'))
    thread = threading.Thread(target=server.run, name=f'uvicorn-{port}', daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f'service_client.py: the server on port {port} did not start')
        time.sleep(0.02)
    try:
        yield f'http://127.0.0.1:{port}'
    finally:
        server.should_exit = True
        thread.join(timeout)


def _multipart(path: str, field: str, filename: str, boundary: str) -> Tuple[bytes, bytes]:
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    return head, f'\r\n--{boundary}--\r\n'.encode()


def post_video(url: str, path: Optional[str] = None, data: Optional[bytes] = None,
               raw: bool = False, content_type: Optional[str] = None,
               headers: Optional[Dict[str, str]] = None, chunked: bool = False,
               field: str = 'video', timeout: float = 120.0) -> Tuple[int, Dict, Dict]:
    """POST a video (a file or bytes) to ``url``.

    Args:
        url: Full URL (``.../v1/score``).
        path / data: The file to send, or its bytes.
        raw: Send the bytes as the body (``content_type``, default ``video/mp4``) instead of
            a multipart form.
        content_type: Overrides the Content-Type header.
        headers: Extra headers (API key).
        chunked: Stream in 64 KiB chunks without ``Content-Length``.
        field: Multipart field name.

    Returns:
        tuple: Status, response headers (lower-case names) and the JSON body.
    """
    if data is None:
        with open(path, 'rb') as f:
            data = f.read()
    name = os.path.basename(path) if path else 'upload.mp4'
    if raw:
        body = data
        ctype = content_type or 'video/mp4'
    else:
        boundary = uuid.uuid4().hex
        head, tail = _multipart(path or name, field, name, boundary)
        body = head + data + tail
        ctype = content_type or f'multipart/form-data; boundary={boundary}'
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    hdrs = {'Content-Type': ctype, **(headers or {})}
    try:
        if chunked:
            conn.putrequest('POST', parts.path + (f'?{parts.query}' if parts.query else ''))
            for k, v in {**hdrs, 'Transfer-Encoding': 'chunked'}.items():
                conn.putheader(k, v)
            conn.endheaders()
            try:
                for i in range(0, len(body), 65536):
                    chunk = body[i:i + 65536]
                    conn.send(f'{len(chunk):x}\r\n'.encode() + chunk + b'\r\n')
                conn.send(b'0\r\n\r\n')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (413) and closed before the whole body was sent
        else:
            try:
                conn.request('POST', parts.path + (f'?{parts.query}' if parts.query else ''),
                             body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered before the whole body was read (413 from Content-Length)
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(text)
    finally:
        conn.close()


def get_json(url: str, timeout: float = 30.0) -> Tuple[int, Dict]:
    """GET ``url`` and parse its JSON body."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request('GET', parts.path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()
