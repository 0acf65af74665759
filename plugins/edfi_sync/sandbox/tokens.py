"""OAuth2 client credentials (shared/edfi-api/CONTRACT.md §1) with a per-client cap on live tokens."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .config import Client


@dataclass(slots=True)
class Token:
    client: Client
    expires_at: float


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str | None = None, retry_after: int | None = None):
        super().__init__(error)
        self.status = status
        self.body = {"error": error} | ({"error_description": description} if description else {})
        self.retry_after = retry_after


class TokenService:
    def __init__(self, clients: list[Client], max_tokens: int):
        self.clients = {client.key: client for client in clients}
        self.max_tokens = max_tokens
        self._tokens: dict[str, Token] = {}
        self._by_client: dict[str, list[str]] = {key: [] for key in self.clients}

    def request(self, headers: dict, body: bytes, lifetime: int) -> dict:
        """Handle POST /oauth/token; returns the token response or raises TokenError."""
        content_type = headers.get("content-type", "")
        try:
            if "json" in content_type:
                form = json.loads(body or b"{}")
                if not isinstance(form, dict):
                    raise ValueError
            else:
                form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            raise TokenError(400, "invalid_request") from None
        key, secret = form.get("client_id"), form.get("client_secret")
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "basic":
                raise TokenError(401, "invalid_client")
            try:
                key, _, secret = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise TokenError(401, "invalid_client") from None
        grant = str(form.get("grant_type") or "")
        if not grant:
            raise TokenError(400, "invalid_request")
        if grant.lower() != "client_credentials":
            raise TokenError(400, "unsupported_grant_type")
        client = self.clients.get(key or "")
        if client is None or not secrets.compare_digest(str(secret or ""), client.secret):
            raise TokenError(401, "invalid_client")
        now = time.monotonic()
        live = self._live(client.key, now)
        if len(live) >= self.max_tokens:
            # Refused until the oldest live token expires: reuse a token instead of asking for more.
            oldest = min(self._tokens[token].expires_at for token in live)
            raise TokenError(429, "invalid_request",
                             f"The client has reached its limit of {self.max_tokens} active access tokens. "
                             "Reuse an existing token until it expires.",
                             retry_after=max(1, int(oldest - now + 0.999)))
        token = secrets.token_hex(16)
        self._tokens[token] = Token(client, now + lifetime)
        live.append(token)
        return {"access_token": token, "expires_in": lifetime, "token_type": "bearer", "scope": _scope(client)}

    def _live(self, key: str, now: float) -> list[str]:
        live = [t for t in self._by_client[key] if t in self._tokens and self._tokens[t].expires_at > now]
        for token in set(self._by_client[key]) - set(live):
            self._tokens.pop(token, None)
        self._by_client[key] = live
        return live

    def client_for(self, authorization: str) -> Client | None:
        """The client a ``Bearer`` header authenticates, or None (unknown or expired token)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        found = self._tokens.get(token.strip())
        if found is None or found.expires_at <= time.monotonic():
            return None
        return found.client

    def info(self, token: str) -> dict:
        found = self._tokens.get(token)
        if found is None or found.expires_at <= time.monotonic():
            return {"active": False}
        client = found.client
        return {"active": True, "client_id": client.key, "namespace_prefixes": ["uri://ed-fi.org", "uri://nmped.org"],
                "education_organizations": [{"education_organization_id": claim} for claim in sorted(client.claims or ())],
                "assigned_profiles": [], "claim_set": {"name": "SIS Vendor"}}

    def counts(self) -> dict:
        now = time.monotonic()
        return {key: len(self._live(key, now)) for key in self.clients}

    def expire_all(self) -> None:
        """Make every issued token expire now (tests of the 401-refresh path)."""
        for token in self._tokens.values():
            token.expires_at = 0.0


def _scope(client: Client) -> str:
    return " ".join(str(claim) for claim in sorted(client.claims)) if client.claims is not None else ""
