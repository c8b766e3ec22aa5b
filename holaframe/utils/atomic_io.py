"""Atomic file output: write to a temporary file in the same folder, then rename.

A reader (or a run that crashed half-way) sees either the previous complete file or the new
complete file, never a partial one: ``os.replace`` within one file system is atomic. Every file
holaframe's tools write (checkpoints, metrics, submissions, score and error reports) goes
through these functions.
"""

import contextlib
import io
import os
import os.path as osp
import shutil
import tempfile
from typing import IO, Any, Iterator, Union

from mmengine.fileio.backends import LocalBackend

PathLike = Union[str, os.PathLike]

#: Name of the MMEngine file backend that writes atomically (``backend_args=dict(backend=...)``).
ATOMIC_BACKEND = 'holaframe_atomic_local'


def _temp_path(path: str) -> str:
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.tmp', dir=folder)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = 'w', encoding: str = 'utf-8',
                errors: str = 'strict') -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the block ends without an error.

    On an exception the temporary file is removed and ``path`` is left as it was.

    Args:
        path (str | PathLike): Final file.
        mode (str): ``'w'`` (text) or ``'wb'`` (bytes).
        encoding (str): Text encoding. Defaults to UTF-8.
        errors (str): Text encoding error handler (``'surrogateescape'`` writes file names that
            are not valid UTF-8 back as their original bytes).
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f'atomic_open: mode must be "w" or "wb", got {mode!r}')
    path = os.fspath(path)
    tmp = _temp_path(path)
    try:
        kwargs = {} if 'b' in mode else dict(encoding=encoding, errors=errors, newline='')
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_write_text(path: PathLike, text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, 'w', encoding=encoding) as f:
        f.write(text)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_torch_save(obj: Any, path: PathLike) -> None:
    """``torch.save`` to ``path`` atomically."""
    import torch
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)


def atomic_replace_dir(tmp_dir: PathLike, path: PathLike) -> None:
    """Move a completely written folder ``tmp_dir`` to ``path``, replacing an older one.

    An existing ``path`` is first renamed aside and deleted after the new folder is in place,
    so at every moment ``path`` is either the old complete folder, missing, or the new one.

    Args:
        tmp_dir (str | PathLike): The complete new folder (same file system as ``path``).
        path (str | PathLike): Final folder.
    """
    tmp_dir, path = os.fspath(tmp_dir), os.fspath(path)
    old = None
    if osp.lexists(path):
        old = tempfile.mkdtemp(prefix=f'.{osp.basename(path)}.', suffix='.old',
                               dir=osp.dirname(osp.abspath(path)))
        os.rmdir(old)
        os.replace(path, old)
    os.replace(tmp_dir, path)
    if old is not None:
        if osp.isdir(old) and not osp.islink(old):
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.remove(old)


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose ``put`` and ``put_text`` write atomically.

    Used for checkpoints (``CheckpointHook(backend_args=dict(backend=ATOMIC_BACKEND))``; set by
    :func:`holaframe.engine.runner.build_runner`).
    """

    def put(self, obj: bytes, filepath: PathLike) -> None:
        """Write bytes to ``filepath`` through a temporary file."""
        if isinstance(obj, io.BytesIO):
            obj = obj.getvalue()
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: PathLike, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` through a temporary file."""
        atomic_write_text(filepath, obj, encoding=encoding)


def install_atomic_backend() -> None:
    """Register :class:`AtomicLocalBackend` with MMEngine's file I/O (once)."""
    from mmengine.fileio.backends import backends, register_backend
    if backends.get(ATOMIC_BACKEND) is not AtomicLocalBackend:
        register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
