"""Environment report used in logs and bug reports."""

from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env

import holaframe


def collect_env() -> dict:
    """Return MMEngine's environment report plus the holaframe version."""
    env = collect_base_env()
    env['holaframe'] = holaframe.__version__ + '+' + get_git_hash(digits=7)
    return env
