"""Checkpoint reading: the one function through which holaframe loads checkpoint files.

:func:`load_checkpoint` reads local files and ``http(s)://`` URLs with
``torch.load(weights_only=True)``: only tensors, numpy arrays, numbers, strings, plain containers
(dict, list, tuple, set, OrderedDict) and ``argparse.Namespace`` (HiCMAE's training scripts
pickle their arguments) are unpickled, so a checkpoint cannot run code while it is read. A file
that needs any other class fails with :class:`UnsafeCheckpointError`, which names the classes
and the ``--unsafe-load`` option that reads a trusted file with a full pickle load.

A URL is downloaded once into ``<torch hub dir>/checkpoints`` (``$TORCH_HOME``) and checked
against a SHA-256: the ``sha256`` argument (all 64 hex digits, or a prefix), and the OpenMMLab
file-name convention ``name-<first 8 hex digits>.pth``. A file that does not match is deleted.

:func:`install_checkpoint_loader` routes MMEngine's loaders (``load_from``, ``resume``,
``init_cfg=dict(type='Pretrained')``) through :func:`load_checkpoint`; MMEngine's other schemes
(``open-mmlab://``, ``torchvision://``, ``pavi://``, ``s3://``, ...) are refused with an error.
Training checkpoints keep their message hub as plain numbers (see
:class:`holaframe.engine.hooks.TrainStateHook`), so MMEngine's ``HistoryBuffer`` is not needed.
"""

import argparse
import contextlib
import hashlib
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union
from urllib.parse import urlparse

import numpy as np
import torch

_FILE = 'holaframe/utils/checkpoint.py'

#: Keys under which training scripts store the weights, tried in this order (HiCMAE's
#: fine-tuning script tries 'model', then 'module', then the file's top level).
STATE_DICT_KEYS = ('model', 'module', 'state_dict')

#: URL schemes :func:`load_checkpoint` downloads.
URL_SCHEMES = ('http://', 'https://')

#: MMEngine checkpoint schemes that are refused (they would bypass the weights-only load).
REFUSED_SCHEMES = ('open-mmlab://', 'openmmlab://', 'torchvision://', 'modelzoo://', 'mmcls://',
                   'pavi://', 's3://', 'petrel://', 'cluster-name:s3://')

#: The option that reads a trusted file with a full pickle load.
UNSAFE_OPTION = '--unsafe-load'

_unsafe_allowed = False

#: torch's own loader (kept: :func:`weights_only_torch_load` replaces ``torch.load`` for a while).
_TORCH_LOAD = torch.load


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs classes that a weights-only load does not unpickle.

    Args:
        source (str): The file or URL.
        types (Sequence[str]): The refused classes (``module.name``).
        detail (str): torch's message.
    """

    def __init__(self, source: str, types: Sequence[str], detail: str = '') -> None:
        self.source = source
        self.types = list(types)
        named = ', '.join(self.types) if self.types else 'an unknown class'
        super().__init__(
            f'{_FILE}: refusing to load {source!r} with weights_only=True: it needs {named}, '
            'and unpickling a class can run code. Only tensors, numpy arrays, numbers, strings, '
            'plain containers and argparse.Namespace are read from untrusted files. If you '
            f'trust this file, pass {UNSAFE_OPTION} to the tool (tools/train.py, tools/test.py, '
            'tools/infer.py, tools/model_converters/*) or call load_checkpoint(..., '
            'unsafe=True).'
            + (f' ({detail.strip().splitlines()[0]})' if detail.strip() else ''))


class ChecksumError(RuntimeError):
    """A downloaded checkpoint does not have the expected SHA-256."""


def is_url(source: Any) -> bool:
    """Whether ``source`` is an ``http://`` or ``https://`` URL."""
    return isinstance(source, str) and source.startswith(URL_SCHEMES)


def data_safe_globals() -> List[Any]:
    """Classes read from untrusted files besides torch's defaults: numpy arrays, numpy scalars
    and dtypes (pure data), and ``argparse.Namespace`` (HiCMAE checkpoints)."""
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    return [
        argparse.Namespace,
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
    ] + dtype_classes


def safe_globals() -> List[Any]:
    """Alias of :func:`data_safe_globals` (the complete allow-list)."""
    return data_safe_globals()


@contextlib.contextmanager
def unsafe_load_allowed(allowed: bool = True) -> Iterator[None]:
    """Within this context :func:`load_checkpoint` uses a full pickle load (``--unsafe-load``).

    Args:
        allowed (bool): Whether unsafe loading is allowed inside the context.
    """
    global _unsafe_allowed
    previous, _unsafe_allowed = _unsafe_allowed, bool(allowed)
    try:
        yield
    finally:
        _unsafe_allowed = previous


def set_unsafe_load(allowed: bool) -> None:
    """Allow (or forbid) full pickle loads process-wide; what ``--unsafe-load`` sets.

    Args:
        allowed (bool): Whether :func:`load_checkpoint` may unpickle arbitrary classes.
    """
    global _unsafe_allowed
    _unsafe_allowed = bool(allowed)


def unsafe_load_is_allowed() -> bool:
    """Whether ``--unsafe-load`` is in effect."""
    return _unsafe_allowed


# --------------------------------------------------------------------------- downloads
def sha256_of(path: Union[str, os.PathLike], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def expected_hash_prefix(url_or_name: str) -> Optional[str]:
    """The SHA-256 prefix of the OpenMMLab naming convention ``name-<hex>.pth``, if any.

    Args:
        url_or_name (str): URL or file name.
    """
    name = osp.basename(urlparse(url_or_name).path)
    match = torch.hub.HASH_REGEX.search(name)
    if match is None or len(match.group(1)) < 8:
        return None
    return match.group(1)


def checkpoint_cache_dir() -> str:
    """Where downloaded checkpoints are kept: ``<torch.hub.get_dir()>/checkpoints``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def _verify(path: str, url: str, sha256: Optional[str]) -> None:
    wanted = [h.lower() for h in (sha256, expected_hash_prefix(url)) if h]
    if not wanted:
        return
    actual = sha256_of(path)
    for prefix in wanted:
        if not actual.startswith(prefix):
            os.remove(path)
            raise ChecksumError(
                f'{_FILE}: {url} downloaded to {path} has SHA-256 {actual}, expected '
                f'{prefix}{"..." if len(prefix) < 64 else ""}; the file was deleted (a '
                'corrupted download, or not the published file).')


def download_checkpoint(url: str, sha256: Optional[str] = None,
                        cache_dir: Optional[str] = None, progress: bool = False) -> str:
    """Download ``url`` into the checkpoint cache (once) and check its SHA-256.

    The file is fetched into a temporary name and renamed when complete; a cached file is
    checked again on every call when a hash is known.

    Args:
        url (str): ``http://`` or ``https://`` URL.
        sha256 (str, optional): Expected SHA-256 (hex; a prefix of at least 8 digits is
            accepted).
        cache_dir (str, optional): Defaults to :func:`checkpoint_cache_dir`.
        progress (bool): Show a download progress bar.

    Returns:
        str: The local file.
    """
    if sha256 is not None and (len(sha256) < 8 or re.fullmatch(r'[0-9a-fA-F]+', sha256) is None):
        raise ValueError(f'{_FILE}: sha256 must be at least 8 hex digits, got {sha256!r}')
    cache_dir = cache_dir or checkpoint_cache_dir()
    os.makedirs(cache_dir, exist_ok=True)
    name = osp.basename(urlparse(url).path) or 'checkpoint.pth'
    path = osp.join(cache_dir, name)
    if not osp.isfile(path):
        try:
            torch.hub.download_url_to_file(url, path, hash_prefix=None, progress=progress)
        except Exception as exc:  # noqa: BLE001 - re-raised with the URL
            raise RuntimeError(f'{_FILE}: could not download {url}: {exc}') from exc
    _verify(path, url, sha256)
    return path


# --------------------------------------------------------------------------- loading
def _refused_globals(path: str) -> List[str]:
    """Globals in a (zip) checkpoint that the weights-only unpickler would refuse."""
    allowed = set()
    for item in data_safe_globals():
        obj = item[0] if isinstance(item, tuple) else item
        allowed.add(f'{obj.__module__}.{obj.__qualname__}')
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - legacy (non-zip) files: use torch's message instead
        return []
    return [g for g in found if g not in allowed]


def _weights_only_load(path: str, source: str, map_location: Any,
                       extra_globals: Sequence[Any]) -> Any:
    with torch.serialization.safe_globals(data_safe_globals() + list(extra_globals)):
        try:
            return _TORCH_LOAD(path, map_location=map_location, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - re-raised with the cause named
            text = str(exc)
            types = _refused_globals(path)
            if not types:
                types = sorted(set(re.findall(r'GLOBAL ([\w.]+)', text)))
            if types or 'Unsupported global' in text or 'weights_only' in text.lower():
                raise UnsafeCheckpointError(source, types, text) from exc
            raise RuntimeError(f'{_FILE}: could not load {source!r} with weights_only=True: '
                               f'{text}') from exc


def load_checkpoint(source: Union[str, os.PathLike],
                    map_location: Union[str, torch.device, Callable, None] = 'cpu',
                    *,
                    sha256: Optional[str] = None,
                    unsafe: Optional[bool] = None,
                    extra_safe_globals: Sequence[Any] = (),
                    cache_dir: Optional[str] = None) -> Any:
    """Read a checkpoint file or URL; weights-only unless unsafe loading is asked for.

    Args:
        source (str | PathLike): Local file, or ``http(s)://`` URL (downloaded into the cache,
            see :func:`download_checkpoint`).
        map_location (str | torch.device | Callable): Where to put the tensors.
        sha256 (str, optional): Expected SHA-256 of a downloaded file.
        unsafe (bool, optional): Full pickle load (arbitrary classes; only for trusted files).
            Defaults to the process-wide ``--unsafe-load`` setting (:func:`set_unsafe_load`).
        extra_safe_globals (Sequence): More classes to allow (file formats of other libraries,
            e.g. DeepSpeed's optimizer states).
        cache_dir (str, optional): Download cache; defaults to :func:`checkpoint_cache_dir`.

    Returns:
        Any: The loaded object (usually a dict).

    Raises:
        FileNotFoundError: No such local file.
        UnsafeCheckpointError: The file needs classes outside the allow-list.
        ChecksumError: A downloaded file does not have the expected SHA-256.
    """
    source = os.fspath(source)
    if isinstance(source, str) and source.startswith(REFUSED_SCHEMES):
        raise ValueError(f'{_FILE}: {source!r}: holaframe loads checkpoints from local files and '
                         'http(s):// URLs only; download the file and pass its path.')
    if is_url(source):
        path = download_checkpoint(source, sha256=sha256, cache_dir=cache_dir)
    else:
        path = osp.expanduser(source)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{_FILE}: no checkpoint file at {source!r}.')
        if sha256 is not None:
            actual = sha256_of(path)
            if not actual.startswith(sha256.lower()):
                raise ChecksumError(f'{_FILE}: {source} has SHA-256 {actual}, expected '
                                    f'{sha256}.')
    if unsafe is None:
        unsafe = _unsafe_allowed
    if unsafe:
        return _TORCH_LOAD(path, map_location=map_location, weights_only=False)
    return _weights_only_load(path, source, map_location, extra_safe_globals)


def load_checkpoint_safely(path: Union[str, os.PathLike],
                           map_location: Union[str, torch.device] = 'cpu') -> Any:
    """:func:`load_checkpoint` with the process-wide ``--unsafe-load`` setting (kept name).

    Args:
        path (str | PathLike): Checkpoint file or URL.
        map_location (str | torch.device): Where to put the tensors. Defaults to ``'cpu'``.
    """
    return load_checkpoint(path, map_location=map_location)


def _mmengine_loader(filename: str, map_location: Any = None, *args, **kwargs) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local files and http(s) URLs."""
    return load_checkpoint(filename, map_location=map_location)


def _refuse_scheme(filename: str, map_location: Any = None, *args, **kwargs) -> Any:
    raise ValueError(f'{_FILE}: {filename!r}: holaframe loads checkpoints from local files and '
                     'http(s):// URLs only (with weights_only=True); download the file and pass '
                     'its path.')


def install_checkpoint_loader() -> None:
    """Route MMEngine's checkpoint loading (``load_from``, ``resume``, ``init_cfg`` Pretrained,
    ``_load_checkpoint``) through :func:`load_checkpoint`; refuse MMEngine's other schemes.

    Idempotent; called by :func:`holaframe.utils.register_all_modules`.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    if CheckpointLoader._schemes.get('') is _mmengine_loader:
        return
    CheckpointLoader.register_scheme(prefixes=REFUSED_SCHEMES, loader=_refuse_scheme, force=True)
    CheckpointLoader.register_scheme(prefixes=URL_SCHEMES, loader=_mmengine_loader, force=True)
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_loader, force=True)


@contextlib.contextmanager
def weights_only_torch_load(extra_safe_globals: Sequence[Any] = ()) -> Iterator[None]:
    """Within the block every ``torch.load`` of a file path goes through
    :func:`load_checkpoint`, also in third-party code that asks for ``weights_only=False``
    (DeepSpeed's ``zero_to_fp32`` consolidation). Single-threaded tools only.

    Args:
        extra_safe_globals (Sequence): Classes allowed besides :func:`data_safe_globals`.
    """

    def _load(f, map_location=None, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):
            return load_checkpoint(f, map_location=map_location,
                                   extra_safe_globals=extra_safe_globals)
        with torch.serialization.safe_globals(data_safe_globals() + list(extra_safe_globals)):
            return _TORCH_LOAD(f, map_location=map_location, weights_only=not _unsafe_allowed)

    previous, torch.load = torch.load, _load
    try:
        yield
    finally:
        torch.load = previous


@contextlib.contextmanager
def allow_mmengine_checkpoints() -> Iterator[None]:
    """Context in which MMEngine's loaders and plain ``torch.load(weights_only=True)`` read
    holaframe training checkpoints (numpy arrays and ``argparse.Namespace`` allowed besides
    torch's defaults; MMEngine's ``HistoryBuffer`` is not)."""
    install_checkpoint_loader()
    with torch.serialization.safe_globals(data_safe_globals()):
        yield


# --------------------------------------------------------------------------- contents
def unwrap_state_dict(checkpoint: Any,
                      keys: Sequence[str] = STATE_DICT_KEYS) -> 'OrderedDict[str, torch.Tensor]':
    """Return the weights of a checkpoint: the first of ``keys`` present, else the top level.

    A leading ``'module.'`` (DistributedDataParallel) on every key is removed.

    Args:
        checkpoint (Any): A loaded checkpoint.
        keys (Sequence[str]): Wrapper keys to try, in order.

    Returns:
        OrderedDict[str, Tensor]: Name -> tensor.
    """
    if not isinstance(checkpoint, dict):
        raise TypeError(f'{_FILE}: a checkpoint must be a dict, got '
                        f'{type(checkpoint).__name__}.')
    state = checkpoint
    for key in keys:
        if key in checkpoint and isinstance(checkpoint[key], dict):
            state = checkpoint[key]
            break
    non_tensor = [k for k, v in state.items() if not torch.is_tensor(v)]
    if non_tensor:
        raise ValueError(
            f'{_FILE}: the weights (looked up under {list(keys)} or the top level) contain '
            f'non-tensor entries {non_tensor[:5]}; is this a training checkpoint with an '
            'unknown layout?')
    state = OrderedDict(state)
    if state and all(k.startswith('module.') for k in state):
        state = OrderedDict((k[len('module.'):], v) for k, v in state.items())
    return state


def namespace_to_dict(args: Any) -> Dict[str, Any]:
    """Plain-typed copy of a pickled ``argparse.Namespace`` (or dict) for checkpoint metadata.

    Values that are not None/bool/int/float/str (or lists/tuples of them) become their
    ``repr`` so that the result loads with ``weights_only=True``.

    Args:
        args (Any): ``argparse.Namespace``, a dict, or None.

    Returns:
        dict: str -> plain value.
    """
    if args is None:
        return {}
    items = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    plain = (type(None), bool, int, float, str)

    def _convert(value):
        if isinstance(value, plain):
            return value
        if isinstance(value, (list, tuple)) and all(isinstance(v, plain) for v in value):
            return list(value)
        return repr(value)

    return {str(k): _convert(v) for k, v in items.items()}


def to_plain(value: Any) -> Any:
    """A copy of ``value`` made of tensors, numbers, strings, None and plain containers.

    numpy arrays become lists (numpy scalars Python numbers), dict subclasses (``ConfigDict``)
    plain dicts, tuples stay tuples; any other object becomes its ``repr``. Used for checkpoint
    metadata so that it loads with ``weights_only=True`` without any allow-list.

    Args:
        value (Any): Metadata.
    """
    if isinstance(value, np.generic):  # before float: numpy.float64 is a float subclass
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str, bytes, torch.Tensor)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, OrderedDict):
        return OrderedDict((to_plain(k), to_plain(v)) for k, v in value.items())
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, (list, set, frozenset)):
        return [to_plain(v) for v in value]
    return repr(value)


def load_weights(source: Union[str, os.PathLike],
                 sha256: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """The model weights of a holaframe / MMEngine checkpoint (file or URL), weights-only.

    Looks under ``state_dict`` (MMEngine), then ``model`` and ``module``, else the top level; a
    leading ``module.`` on every key is removed.

    Args:
        source (str | PathLike): Checkpoint file or ``http(s)://`` URL.
        sha256 (str, optional): Expected SHA-256 of a downloaded file.

    Returns:
        OrderedDict[str, Tensor]: Name -> tensor.
    """
    return unwrap_state_dict(load_checkpoint(source, sha256=sha256),
                             keys=('state_dict', 'model', 'module'))
