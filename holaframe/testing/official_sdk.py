"""A separate Python environment holding the challenge's official SDK (``avdeepfake1m``).

The SDK's Track 2 scorer (``avdeepfake1m._evaluation.ap_ar_1d``) is a compiled extension that
needs nothing but the package itself, but the package declares ``numpy<2``, ``pandas~=2.0``,
torch, torchvision and lightning, and its ``__init__`` imports a torchvision-based loader that
does not import beside holaframe's torch. So it never goes into holaframe's environment: it is
installed with ``--no-deps`` (and numpy, for the fixture script) into a venv of its own, built
once and reused, and ``tools/misc/make_track2_sdk_fixture.py`` runs with that venv's Python.
"""

import os
import os.path as osp
import subprocess
import sys
from typing import Optional, Tuple

__all__ = ['SDK_REQUIREMENT', 'official_sdk_python']

SDK_REQUIREMENT = 'avdeepfake1m==0.0.4'


def _can_load_sdk(python: str) -> bool:
    code = ('import glob, importlib.util, os; s = importlib.util.find_spec("avdeepfake1m"); '
            'assert s and glob.glob(os.path.join(list(s.submodule_search_locations)[0], '
            '"_evaluation*")); import numpy')
    return subprocess.run([python, '-c', code], capture_output=True, timeout=60).returncode == 0


def official_sdk_python(venv_dir: str, timeout: float = 600.0
                        ) -> Tuple[Optional[str], str]:
    """The Python of a venv at ``venv_dir`` that holds the official SDK, built if missing.

    Args:
        venv_dir: Where the venv lives (created with ``python -m venv`` on first use).
        timeout: Seconds allowed for ``pip install``.

    Returns:
        ``(python, '')`` when the SDK's Track 2 extension loads with that Python, or
        ``(None, reason)`` naming why the package could not be installed (no network, no
        wheel for this Python or platform), with the tail of pip's output.
    """
    python = osp.join(venv_dir, 'bin', 'python')
    if osp.exists(python) and _can_load_sdk(python):
        return python, ''
    try:
        subprocess.run([sys.executable, '-m', 'venv', '--clear', venv_dir], check=True,
                       capture_output=True, timeout=120)
        # Binary wheels only: the extension is compiled, and a source build would need the
        # package's whole dependency set.
        proc = subprocess.run(
            [python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
             '--no-deps', '--only-binary=:all:', SDK_REQUIREMENT, 'numpy'],
            capture_output=True, text=True, timeout=timeout,
            env=dict(os.environ, PIP_NO_INPUT='1'))
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f'could not build a venv for {SDK_REQUIREMENT} at {venv_dir}: {exc}'
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return None, (f'pip could not install {SDK_REQUIREMENT} for Python '
                      f'{sys.version_info.major}.{sys.version_info.minor}: ' + ' | '.join(tail))
    if not _can_load_sdk(python):
        return None, f'{SDK_REQUIREMENT} installed at {venv_dir} but its extension does not load'
    return python, ''
