"""One error type for bad input, carrying the file, record and field it concerns.

The CLI prints ``str(err)`` as its single line and exits non-zero, so the message is
written for a person who has the file open: where, which record, which field, why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


class SmallPoseError(Exception):
    """Base class: any error the CLI reports as one line without a traceback."""


class InputError(SmallPoseError):
    """A bad input record. ``record`` is an id or position; ``field`` the offending key."""

    def __init__(self, file: str, record: str | int | None, field: str | None, reason: str):
        self.file, self.record, self.field, self.reason = str(file), record, field, reason
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [self.file]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + f": {self.reason}"


@dataclass(frozen=True)
class Reject:
    """A record skipped in non-strict mode; written to the store's rejects file."""

    file: str
    record: str
    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class RejectLog:
    """Collects skipped records, or raises at the first one when ``strict``.

    Converters call :meth:`reject` for every bad record and carry on when it returns.
    """

    strict: bool = False
    items: list[Reject] = field(default_factory=list)

    def reject(self, file: str, record: str | int | None, field: str | None, reason: str) -> None:
        if self.strict:
            raise InputError(file, record, field, reason)
        self.items.append(Reject(str(file), "" if record is None else str(record), field or "", reason))

    def counts(self) -> Counter[str]:
        return Counter(r.reason for r in self.items)

    def extend(self, other: RejectLog) -> None:
        self.items.extend(other.items)

    def __len__(self) -> int:
        return len(self.items)
