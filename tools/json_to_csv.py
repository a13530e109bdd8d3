"""Turn a saved read-API response (`{"data": [...]}` of flat rows) into CSV.

    .venv/bin/python -m tools.json_to_csv response.json [out.csv]

The same CSV as `format=csv` would give (sorted union of keys as header), for responses
saved earlier or fetched from an unpublished data set, where the API answers JSON only.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from backdrop.core.results import to_csv


def convert(source: Path, target: Path) -> int:
    """Write `target` from `source`; the number of rows. ValueError for a nested response."""
    document = json.loads(source.read_text(encoding="utf-8"))
    rows = document.get("data") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("expected {\"data\": [ {...}, ... ]} or a JSON list of objects")
    if any(isinstance(value, (list, dict)) for row in rows for value in row.values()):
        raise ValueError("rows hold nested values: save a raw or flatten=true response instead")
    target.write_text(to_csv(rows), encoding="utf-8", newline="")
    return len(rows)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m tools.json_to_csv response.json [out.csv]", file=sys.stderr)
        return 2
    target = Path(argv[1] if len(argv) == 2 else "out.csv")
    try:
        count = convert(Path(argv[0]), target)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {count} rows to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
