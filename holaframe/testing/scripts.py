"""Load a script of the repository that is not part of the package (``tools/``, ``benchmarks/``)
as a module, so a test can call its functions."""

import importlib.util
import os
from types import ModuleType
from typing import Optional, Union

__all__ = ['load_script']


def load_script(path: Union[str, os.PathLike], name: Optional[str] = None) -> ModuleType:
    """Execute the file at ``path`` as a new module (not added to ``sys.modules``).

    Args:
        path: The script, e.g. ``REPO / 'tools' / 'analysis_tools' / 'cross_dataset.py'``.
        name: The module's ``__name__``; defaults to the file's stem.
    """
    path = os.fspath(path)
    name = name or os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f'scripts.py: cannot load {path} as a module')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
