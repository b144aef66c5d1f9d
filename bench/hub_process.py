"""Child process for bench/download.py: the loopback Hub in a process of its own, so its
serving does not share the measured app's interpreter (and GIL), as the real Hub would not.

    python -m bench.hub_process MIB BYTES_PER_SECOND

Prints the Hub's URL on one line, serves until stdin closes.
"""

from __future__ import annotations

import sys

from bench.download import repo_files
from tests.support.hub_server import hub_server


def main() -> None:
    mib, rate = int(sys.argv[1]), float(sys.argv[2])
    with hub_server() as hub:
        hub.files = repo_files(mib)
        hub.bytes_per_second = rate or None
        print(hub.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
