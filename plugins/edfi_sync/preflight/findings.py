"""What a check found: one line per problem, with its fix. Pure, no database, no Airflow."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

# fatal: the run would be pointless (SPEC §6.1: unreachable, credentials refused, out of scope);
# warning: records will fail one by one as they would without the check; info: worth knowing.
Level = Literal["fatal", "warning", "info"]
LEVELS: tuple[Level, ...] = ("fatal", "warning", "info")


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str  # scope, connection, ods, credentials, claims, resources, descriptors, mappings, rollover
    message: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.level.upper():7} [{self.check}] {self.message}" + (f" Fix: {self.fix}" if self.fix else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Fatal first, then warnings, then information; each level in the order found."""
    return sorted(findings, key=lambda f: LEVELS.index(f.level))


def counts(findings: list[Finding]) -> dict[str, int]:
    return {level: sum(f.level == level for f in findings) for level in LEVELS}
