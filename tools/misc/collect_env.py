"""Print the environment (versions of Python, torch, mmengine, holaframe, CUDA ...)."""

from holaframe.utils import collect_env

if __name__ == '__main__':
    for name, value in collect_env().items():
        print(f'{name}: {value}')
