"""Make a change in a running sandbox ZUP, as HR would in 1C:ZUP (for the demo):

    python -m sandbox.zup.change hire        # also: transfer, vacation, dismiss
    python -m sandbox.zup.change vacation --url http://127.0.0.1:8201

Then open the app's «Предпросмотр и запуск» to see it planned, and «Запустить сейчас» to watch it synced.
"""
from __future__ import annotations

import argparse
import os
import sys

import requests

from .edits import CHANGES


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=CHANGES)
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('DEMO_ZUP_PORT', 8201)}",
                        help="the sandbox ZUP (the demo's: %(default)s)")
    args = parser.parse_args()
    try:
        answer = requests.post(f"{args.url}/_sandbox/change", json={"kind": args.kind}, timeout=30)
    except requests.ConnectionError:
        print(f"No sandbox ZUP at {args.url}: start the demo first (make demo)", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(answer.json().get("error", answer.text), file=sys.stderr)
        return 1
    print(answer.json()["done"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
