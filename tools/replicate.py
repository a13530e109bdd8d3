"""The old spelling of `backdrop replicate` (see `backdrop replicate --help`), kept for scripts.

    .venv/bin/python -m tools.replicate SOURCE_URL TARGET_URL [--exclude NAME ...] [--only NAME ...]
"""
from __future__ import annotations

import sys

from backdrop.cli_transfer import replicate

if __name__ == "__main__":
    replicate.main(sys.argv[1:], prog_name="python -m tools.replicate")
