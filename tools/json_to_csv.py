"""The old spelling of `backdrop json-to-csv` (see `backdrop json-to-csv --help`), kept for scripts.

    .venv/bin/python -m tools.json_to_csv response.json [out.csv]
"""
from __future__ import annotations

import sys

from backdrop.cli_transfer import json_to_csv

if __name__ == "__main__":
    json_to_csv.main(sys.argv[1:], prog_name="python -m tools.json_to_csv")
