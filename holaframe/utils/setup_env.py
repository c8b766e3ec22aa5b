"""Importing every component and making ``holaframe`` the default registry scope."""

import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every holaframe module that registers components.

    Args:
        init_default_scope (bool): Also make ``holaframe`` the current default scope, so that
            configs without ``default_scope`` build holaframe components by name.
    """
    import holaframe.datasets  # noqa: F401
    import holaframe.engine  # noqa: F401
    import holaframe.evaluation  # noqa: F401
    import holaframe.models  # noqa: F401
    import holaframe.visualization  # noqa: F401
    from holaframe.utils.checkpoint import install_checkpoint_loader

    # Every checkpoint MMEngine reads (load_from, resume, init_cfg) goes through holaframe's
    # weights-only loader.
    install_checkpoint_loader()
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('holaframe'):
        DefaultScope.get_instance('holaframe', scope_name='holaframe')
    elif current.scope_name != 'holaframe':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "holaframe"; '
                      '`register_all_modules` creates a new scope named holaframe-<time>.',
                      stacklevel=2)
        name = f'holaframe-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='holaframe')
