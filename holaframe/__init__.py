"""holaframe: a modular framework for audio-visual deepfake detection on MMEngine."""

from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
