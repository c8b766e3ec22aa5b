"""Checkpoints that attack the loader, and a local HTTP server that serves them.

Used by the tests of safe checkpoint loading: every loading path (local file, URL, ``load_from``,
``resume``, ``init_cfg``, tools, converters) must refuse these files without running them.
"""

import contextlib
import functools
import http.server
import os
import threading
from typing import Iterator, Tuple

import torch


class _RunsCode:
    """Unpickling calls ``os.system('touch <marker>')``: what a full pickle load executes."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _HistoryBufferAttr:
    """Unpickles to ``getattr(HistoryBuffer, name)``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, self.name))


class _RegistersStatistic:
    """Unpickles to ``HistoryBuffer.register_statistics(HistoryBuffer.update)`` (a process-wide
    change of MMEngine's statistics methods); needs ``HistoryBuffer`` and ``getattr`` on it."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (HistoryBuffer.register_statistics, (_HistoryBufferAttr('update'), ))


def write_code_running_checkpoint(path: str, marker: str) -> str:
    """A checkpoint with valid weights whose unpickling runs ``touch marker``.

    Args:
        path (str): Output file.
        marker (str): File created if the checkpoint is ever unpickled without restriction.
    """
    torch.save(dict(state_dict=dict(weight=torch.zeros(2)), meta=dict(epoch=1),
                    payload=_RunsCode(marker)), path)
    return path


def write_history_buffer_checkpoint(path: str) -> str:
    """A checkpoint that registers ``HistoryBuffer.update`` as a statistics method on load."""
    torch.save(dict(state_dict=dict(weight=torch.zeros(2)), message_hub=_RegistersStatistic()),
               path)
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args) -> None:  # noqa: D401 - silence the request log
        pass


@contextlib.contextmanager
def serve_directory(directory: str) -> Iterator[Tuple[str, int]]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) while the block runs.

    Yields:
        tuple[str, int]: The base URL (``http://127.0.0.1:<port>``) and the port.
    """
    handler = functools.partial(_QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield f'http://127.0.0.1:{port}', port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
