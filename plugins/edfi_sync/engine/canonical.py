"""Canonical serialisation: the same Ed-Fi record always hashes the same.

Key order, 1.0 vs 1, Decimal vs float or a date object vs its ISO string must never cause a resend.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        # Ed-Fi collections are unordered: element order is not a change.
        return sorted((_normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hash_canonical(text: str) -> str:
    """The hash of a canonical serialisation already made (saves serialising twice)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def digest(value: Any) -> str:
    return hash_canonical(canonical_json(value))
