"""What the two SQL engines share: statements as values, column names, and decoding.

Both dialect modules (sqlite_sql.py, postgres_sql.py) have the same shape:

* `find_statement(name, RecordQuery) -> Statement`: the matching bodies, in order;
* `aggregate_statement(name, AggregateQuery) -> Statement`: one GROUP BY statement whose
  columns are named by rows.Columns (the period, each group field's type tag and value,
  the count, one column per reduction plus any helper columns the dialect needs);
* a rows.Decoder for its rows, handed to rows.decode_aggregate, which reads every column
  by name.

Every value a user chose (field names included) travels as a bound parameter; only fixed
fragments of text chosen by the dialect are pasted together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any



@dataclass
class Statement:
    """SQL text under construction with its parameters in order."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: Any) -> "Statement":
        self.parts.append(text)
        self.params.extend(params)
        return self

    def extend(self, other: "Statement", before: str = "", after: str = "") -> "Statement":
        """Append another statement (a subquery, a WHERE clause) with its parameters."""
        return self.add(before + other.text + after, *other.params)

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    def time_bounds(self, time, column: str, placeholder: str, value) -> "Statement":
        """`AND` conditions keeping `column` within a TimeRange, each bound converted by
        `value` to the column's form; a NULL column (no `_timestamp`) never matches a bound."""
        if time.start is not None:
            self.add(f"AND {column} >= {placeholder}", value(time.start))
        if time.end is not None:
            self.add(f"AND {column} {'<=' if time.end_inclusive else '<'} {placeholder}", value(time.end))
        return self
