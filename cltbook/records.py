"""Bad records: one mechanism for every reader of data files (real datasets, IFEval files).

A reader that meets a record it cannot load hands a :class:`BadRecord` (where it is and why) to a
:class:`BadRecords`. In ``"error"`` mode the first one raises, naming file and line; in
``"skip_and_report"`` mode it is kept for the load's report, and :meth:`BadRecords.check` still
raises once more than ``max_bad_fraction`` of the records seen are bad, since then the file, not a
record, is broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["DEFAULT_MAX_BAD_FRACTION", "BadRecord", "BadRecords", "OnBadRecord", "check_on_bad_record"]

OnBadRecord = Literal["error", "skip_and_report"]

DEFAULT_MAX_BAD_FRACTION = 0.01
"""Above this share of bad records a file is broken, even in skip mode."""


def check_on_bad_record(on_bad_record: str) -> None:
    if on_bad_record not in ("error", "skip_and_report"):
        raise ValueError(f"on_bad_record must be 'error' or 'skip_and_report', got {on_bad_record!r}")


@dataclass(frozen=True)
class BadRecord:
    """A record that was not loaded: where it is and why. ``line`` is None for hub rows, ``row``
    for a line rejected before it became a row."""

    file: str
    line: int | None
    row: int | None
    reason: str

    def location(self) -> str:
        return location(self.file, self.line, self.row)


def location(file: str, line: int | None, row: int | None) -> str:
    return f"{file}:{line}" if line is not None else f"{file} record {row}"


@dataclass
class BadRecords:
    """The bad records of one load, and the rule for them (raise, or skip and report)."""

    on_bad_record: OnBadRecord
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION
    error: type[Exception] = ValueError  # what a bad record (or too many) raises
    records: list[BadRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_on_bad_record(self.on_bad_record)

    def reject(self, record: BadRecord) -> None:
        if self.on_bad_record == "error":
            raise self.error(f"{record.location()}: {record.reason}")
        self.records.append(record)

    def check(self, n_seen: int, what: str = "records") -> None:
        """Raise when more than ``max_bad_fraction`` of the ``n_seen`` records are bad."""
        if n_seen and len(self.records) / n_seen > self.max_bad_fraction:
            where = "; ".join(f"{b.location()}: {b.reason}" for b in self.records[:5])
            raise self.error(
                f"{len(self.records)} of {n_seen} {what} are bad, more than max_bad_fraction="
                f"{self.max_bad_fraction} (first: {where})"
            )

    def __len__(self) -> int:
        return len(self.records)
