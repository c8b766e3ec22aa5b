"""List holaframe's registered components by family.

    python tools/misc/list_components.py                 # every family
    python tools/misc/list_components.py --family fusion # one family
    python tools/misc/list_components.py --json          # machine-readable
"""

import argparse
import json

from holaframe.utils.components import COMPONENT_FAMILIES, list_components


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--family', choices=COMPONENT_FAMILIES, help='only this family')
    parser.add_argument(
        '--custom-imports', nargs='+', default=[], help='plugin modules to import first')
    parser.add_argument('--json', action='store_true', help='print JSON')
    args = parser.parse_args()

    import importlib
    for module in args.custom_imports:
        importlib.import_module(module)
    components = list_components(args.family)
    if args.json:
        print(json.dumps(components, indent=2))
        return
    for family, items in components.items():
        print(f'{family} ({len(items)})')
        for item in items:
            print(f'  {item["name"]:<40} {item["module"]}')


if __name__ == '__main__':
    main()
