"""Sandbox configuration: clients and their claims, storage, API version, token rules, faults."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .faults import Faults

DEFAULT_KEY = "sandbox"
DEFAULT_SECRET = "sandbox-secret"


@dataclass(frozen=True)
class Client:
    key: str
    secret: str = field(repr=False)   # never logged or shown
    claims: frozenset[int] | None = None   # education organization ids; None = unrestricted

    @classmethod
    def make(cls, key: str, secret: str, claims=None) -> "Client":
        return cls(key, secret, None if claims is None else frozenset(int(claim) for claim in claims))


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    clients: list[Client] = field(default_factory=lambda: [Client(DEFAULT_KEY, DEFAULT_SECRET)])
    database_url: str | None = None          # None: in memory (state is lost at stop)
    api_version: str = "5.3"                 # "5.3": {"message"} bodies; "7.3": problem details
    token_lifetime: int = 1800               # seconds (BearerTokenTimeoutMinutes = 30)
    max_tokens: int = 15                     # live tokens per client
    faults: Faults = field(default_factory=Faults)
    descriptor_files: list[str] = field(default_factory=list)
    reset: bool = False
    page_size_limit: int = 500               # DefaultPageSizeLimit

    def __post_init__(self) -> None:
        if self.api_version not in ("5.3", "7.3"):
            raise ValueError("api_version must be '5.3' or '7.3'")
        if isinstance(self.faults, dict):
            self.faults = Faults.from_dict(self.faults)
        keys = [client.key for client in self.clients]
        if len(set(keys)) != len(keys):
            raise ValueError("client keys must be unique")


def read_descriptor_file(path: str | Path) -> list[dict]:
    """A --descriptors file: a JSON list of {descriptor, namespace, codeValue, shortDescription, description?}."""
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of descriptor values")
    for index, row in enumerate(rows):
        missing = {"descriptor", "namespace", "codeValue", "shortDescription"} - set(row)
        if missing:
            raise ValueError(f"{path}: item {index} lacks {', '.join(sorted(missing))}")
    return rows
