"""Async Ed-Fi ODS/API client: OAuth2 client credentials, bounded concurrency, retries.

No Airflow import here: :class:`~edfi_sync.hooks.edfi.EdFiHook` reads the connection and hands
its settings to this client, so the CLI and the operators send exactly the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import ssl
import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from ..connections import as_bool
from .budget import SharedBudget

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class EdFiUnavailable(RuntimeError):
    """Systemic: the ODS/API cannot be reached or refuses our credentials. Fails the run."""


def _oauth_answer(text: str) -> dict[str, Any] | None:
    """An OAuth token answer; None when the body is no such thing (a web page, another API)."""
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    return answer if isinstance(token, str) and token else None


@dataclass(frozen=True)
class EdFiSettings:
    base_url: str
    client_key: str
    client_secret: str = field(repr=False)
    api_mode: Literal["shared_instance", "year_specific"] = "shared_instance"
    data_standard: str = "4.0"
    max_in_flight: int | Literal["auto"] = 8
    verify: bool | str = True
    fail_on_record_errors: bool = False
    timeout_seconds: float = 60.0
    max_attempts: int = 6
    backoff_base: float = 0.25
    backoff_max: float = 20.0

    @classmethod
    def from_connection(cls, *, conn_type: str | None, host: str | None, schema: str | None, port: int | None,
                        login: str | None, password: str | None, extra: dict[str, Any]) -> "EdFiSettings":
        """From an Airflow connection: the base URL in host (with or without scheme), key/secret in
        login/password. As in HttpHook, a scheme-less host takes it from the URI scheme or ``schema``;
        a ``schema`` that is no scheme is the URL path (the URI form puts the path there)."""
        if not host:
            raise ValueError("the Ed-Fi connection has no host (the ODS/API base URL)")
        path = ""
        if "://" in host:
            base = host
        else:
            scheme = next((s for s in (conn_type, schema) if s in ("http", "https")), "https")
            base = f"{scheme}://{host}"
            if schema and schema not in ("http", "https"):
                path = "/" + schema.strip("/")
        if port and base.count(":") < 2:
            base = f"{base}:{port}"
        base += path
        mode = extra.get("api_mode") or "shared_instance"
        if mode not in ("shared_instance", "year_specific"):
            raise ValueError(f"api_mode must be shared_instance or year_specific, not {mode!r}")
        in_flight = extra.get("max_in_flight", 8)
        in_flight = "auto" if str(in_flight).lower() == "auto" else int(in_flight)
        verify = extra.get("verify", True)
        verify = verify if isinstance(verify, bool) or (isinstance(verify, str) and "/" in verify) \
            else as_bool(verify, True)
        return cls(
            base_url=base.rstrip("/"), client_key=login or "", client_secret=password or "",
            api_mode=mode, data_standard=str(extra.get("data_standard", "4.0")), max_in_flight=in_flight,
            verify=verify, fail_on_record_errors=as_bool(extra.get("fail_on_record_errors"), False),
            timeout_seconds=float(extra.get("timeout", 60)), max_attempts=int(extra.get("max_attempts", 6)),
        )

    def resource_path(self, resource: str, school_year: int) -> str:
        if self.api_mode == "year_specific":
            return f"/data/v3/{school_year}/ed-fi/{resource}"
        return f"/data/v3/ed-fi/{resource}"


@dataclass(frozen=True)
class OdsInfo:
    """What an ODS/API says about itself at ``GET /`` (no token needed)."""

    api_version: str | None = None
    data_standard: str | None = None  # the Ed-Fi data model's version, e.g. 4.0.0
    api_mode: str | None = None  # Sandbox, SharedInstance, YearSpecific, DistrictSpecific (5.x)

    @classmethod
    def from_root(cls, body: Any) -> "OdsInfo":
        if not isinstance(body, dict):
            return cls()
        models = [m for m in body.get("dataModels") or [] if isinstance(m, dict)]
        edfi = next((m for m in models if m.get("name") == "Ed-Fi"), models[0] if models else {})
        return cls(api_version=body.get("version"), data_standard=edfi.get("version"), api_mode=body.get("apiMode"))

    def describe(self) -> str:
        mode = f", {self.api_mode}" if self.api_mode else ""
        return f"ODS/API {self.api_version or '?'} (Data Standard {self.data_standard or '?'}{mode})"

    def mismatches(self, settings: "EdFiSettings") -> list[str]:
        """Where the connection's extras disagree with what the server says (pure)."""
        problems = []
        wanted = settings.data_standard
        served = self.data_standard
        if served and not (served == wanted or served.startswith(wanted + ".")):
            extra = "4.0" if served.startswith("4.") else served.split(".")[0]
            problems.append(f"the server speaks Data Standard {served} and the connection's data_standard "
                            f"extra says {wanted}: set it to {extra}")
        modes = {"SharedInstance": "shared_instance", "YearSpecific": "year_specific"}
        if self.api_mode in modes and modes[self.api_mode] != settings.api_mode:
            problems.append(f"the server runs in {self.api_mode} mode and the connection's api_mode extra says "
                            f"{settings.api_mode}: set it to {modes[self.api_mode]}")
        return problems


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: Any  # parsed JSON when the server sent JSON, else text
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def resource_id(self) -> str | None:
        """The Ed-Fi id from the Location header of a POST."""
        location = self.headers.get("location")
        return location.rstrip("/").rsplit("/", 1)[-1] if location else None


class AdaptiveLimit:
    """Concurrency limit: fixed, or ``auto``, which reads the server's latency as well as its refusals.

    ``auto`` works in rounds of about one round trip (``limit`` answers, ``min_round`` at least). It
    starts at 8 and doubles each round (slow start) until the first cut, then grows by one per round
    while the round's latency (its median answer) stays within ``tolerance`` of the unloaded latency
    (the lowest of the last ``window`` rounds). When latency stays above that for ``patience`` rounds,
    requests are queueing in the server: the limit goes to what the server serves at the unloaded
    latency (limit × unloaded ÷ latency). A 429 or 503 halves it. So it settles at the server's
    capacity, not above it, like TCP's AIMD with a delay signal (Vegas). Cuts are logged with their
    cause, and growth every quarter.
    """

    def __init__(self, setting: int | str, floor: int = 2, ceiling: int = 64, tolerance: float = 0.1,
                 window: int = 100, min_round: int = 16, patience: int = 3):
        self.adaptive = setting == "auto"
        self.patience = patience  # rounds in a row of risen latency before a cut
        self.min_round = min_round  # answers per decision at the least: a median of a few is noise
        self.limit = 8 if self.adaptive else max(1, int(setting))
        self.floor, self.ceiling, self.tolerance = floor, ceiling, tolerance
        self._in_flight = 0
        # The slots of a shared budget this sender holds (hooks.budget); None: this limit alone.
        self.share: int | None = None
        self._changed = asyncio.Condition()
        self._slow_start = True
        self._round: list[float] = []
        self._refused: int | None = None
        self._unloaded: deque[float] = deque(maxlen=window)
        self._rising = 0  # rounds in a row with latency above the tolerance
        self._stale = 0  # answers to requests sent before the last cut: they tell of the old limit
        self._logged = self.limit

    @property
    def allowed(self) -> int:
        """Requests this sender may have in flight now: the limit, within its share of a shared budget."""
        return self.limit if self.share is None else min(self.limit, self.share)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def set_share(self, share: int) -> None:
        if share == self.share:
            return
        async with self._changed:
            self.share = share
            # Wake only as many waiters as there are new free slots (a long queue waits here).
            self._changed.notify(max(0, self.allowed - self._in_flight))

    async def __aenter__(self):
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_flight < self.allowed)
            self._in_flight += 1

    async def __aexit__(self, *exc):
        async with self._changed:
            self._in_flight -= 1
            # Wake as many as there are free slots, not every waiter: waking them all on each
            # release made a long queue quadratic in CPU.
            self._changed.notify(max(1, self.allowed - self._in_flight))

    def record(self, status: int, seconds: float) -> None:
        """One answer and its latency (one attempt)."""
        if not self.adaptive:
            return
        if self._stale:
            self._stale -= 1
            return
        if status in (429, 503):
            self._refused = status
        elif status < 500:
            self._round.append(seconds)
        if len(self._round) + (self._refused is not None) >= max(self.limit, self.min_round):
            self._end_round()

    def _end_round(self) -> None:
        # The round's median answer: queueing in the server delays most requests, while a hiccup on
        # either side (CPU, a pause) delays a few; their mean would read such noise as load.
        latency = statistics.median(self._round) if self._round else None
        refused, self._round, self._refused = self._refused, [], None
        if latency is not None:
            self._unloaded.append(latency)
        unloaded = min(self._unloaded, default=None)
        rising = latency is not None and latency > unloaded * (1 + self.tolerance)
        self._rising = self._rising + 1 if rising else 0
        if refused:
            self._set(max(self.floor, self.limit // 2), f"the server answered {refused}")
        elif self._rising >= self.patience:  # a rise that lasts, not a noisy round: hold first, then cut
            self._set(max(self.floor, int(self.limit * unloaded / latency)),
                      f"latency rose to {latency * 1000:.1f} ms from {unloaded * 1000:.1f} ms unloaded")
        elif latency is not None and not rising:
            grown = self.limit * 2 if self._slow_start else self.limit + 1
            self._set(min(self.ceiling, grown), f"latency flat at {latency * 1000:.1f} ms")

    def _set(self, limit: int, why: str) -> None:
        if limit < self.limit:
            self._slow_start = False
            self._stale = self._in_flight
            self._rising = 0
        if limit == self.limit:
            return
        # Every cut is logged; growth when it reaches a quarter more than the last logged limit.
        if limit < self.limit or limit >= self._logged * 1.25 or limit == self.ceiling:
            log.info("max_in_flight auto: %d -> %d (%s)", self.limit, limit, why)
            self._logged = limit
        self.limit = limit


class EdFiClient:
    """One per run (per process): a pooled HTTP session, one bearer token, one concurrency limit,
    and (given ``budget_conninfo``) a share of the connection's budget across processes."""

    def __init__(self, settings: EdFiSettings, token_cache=None, budget_conninfo: str | None = None):
        self.settings = settings
        # Shared across processes when given (see hooks.token_cache); else this client's own token.
        self._token_cache = token_cache
        self._budget_conninfo = budget_conninfo
        self.budget: SharedBudget | None = None
        self._cache_key = hashlib.blake2b(f"{settings.base_url}\n{settings.client_key}".encode(),
                                          digest_size=16).hexdigest()
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock: asyncio.Lock | None = None
        self._session: aiohttp.ClientSession | None = None
        self.limit: AdaptiveLimit | None = None
        self.token_scope = ""  # the education organization ids the last token response named
        self.stats = {"requests": 0, "retries": 0, "token_fetches": 0}

    async def __aenter__(self) -> "EdFiClient":
        verify = self.settings.verify
        ssl_context: ssl.SSLContext | bool
        if isinstance(verify, str):
            try:
                ssl_context = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as exc:
                raise EdFiUnavailable(f"cannot read the CA bundle {verify!r} that the Ed-Fi connection's verify "
                                      f"extra names ({exc}). Fix: give the path of a PEM file of the CA "
                                      f"certificates that signed the ODS/API's certificate") from None
        else:
            ssl_context = ssl.create_default_context() if verify else False
        self.limit = AdaptiveLimit(self.settings.max_in_flight)
        if self._budget_conninfo:
            self.budget = SharedBudget(self._budget_conninfo, self._cache_key, self.limit)
        connector = aiohttp.TCPConnector(limit=64, ssl=ssl_context, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            headers={"Accept": "application/json"})
        self._token_lock = asyncio.Lock()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()
        if self.budget is not None:
            await asyncio.to_thread(self.budget.close)

    async def sending(self, coro):
        """Run ``coro`` (requests) holding this process's share of the connection's budget."""
        if self.budget is None:
            return await coro
        async with self.budget.sending():
            return await coro

    def _certificate_refused(self, exc: aiohttp.ClientConnectorCertificateError) -> EdFiUnavailable:
        """Verification failed: retrying cannot help, and the fix is the connection's, never verify=false."""
        return EdFiUnavailable(
            f"the Ed-Fi API at {self.settings.base_url} presented a TLS certificate that could not be verified "
            f"({exc.certificate_error}). Fix: if the ODS/API's certificate comes from a private certificate "
            f"authority, set the Ed-Fi connection's verify extra to the path of that CA's bundle (PEM)")

    async def _fetch_token(self) -> None:
        assert self._session is not None
        self.stats["token_fetches"] += 1
        auth = aiohttp.BasicAuth(self.settings.client_key, self.settings.client_secret)
        url = f"{self.settings.base_url}/oauth/token"
        for attempt in range(1, self.settings.max_attempts + 1):
            retry_after = None
            try:
                async with self._session.post(url, data={"grant_type": "client_credentials"}, auth=auth) as resp:
                    answer = _oauth_answer(await resp.text()) if resp.status == 200 else None
                    if resp.status in (404, 405) or (resp.status == 200 and answer is None):
                        raise EdFiUnavailable(
                            f"{url} answered {resp.status} with no OAuth token: the Ed-Fi connection's host is not "
                            f"an Ed-Fi ODS/API. Fix: set it to the API's base URL (the one that serves /oauth/token "
                            f"and /data/v3)")
                    if answer is not None:
                        self._token = answer["access_token"]
                        self.token_scope = str(answer.get("scope") or "")
                        lifetime = float(answer.get("expires_in") or 3600)
                        # Refresh before expiry: a token must not die mid-request.
                        self._token_expires = time.time() + max(lifetime * 0.9, lifetime - 60)
                        return
                    if resp.status not in RETRYABLE_STATUSES:
                        raise EdFiUnavailable(
                            f"the Ed-Fi API refused the client credentials ({resp.status}). Fix: check the key "
                            f"(login) and secret (password) of the Ed-Fi connection")
                    # A 429 here is the per-client token limit: its Retry-After says when a slot frees.
                    retry_after = resp.headers.get("Retry-After")
            except aiohttp.ClientConnectorCertificateError as exc:
                raise self._certificate_refused(exc) from None
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
                if attempt == self.settings.max_attempts:
                    raise EdFiUnavailable(
                        f"cannot reach the Ed-Fi API at {self.settings.base_url}: {exc or type(exc).__name__}. Fix: "
                        f"check the Ed-Fi connection's host and port, and that the ODS/API is up") from exc
            await asyncio.sleep(self._backoff(attempt, retry_after))
        raise EdFiUnavailable(f"the Ed-Fi API at {self.settings.base_url} kept failing the token request")

    def _take_cached(self, stale: str | None) -> bool:
        cached = self._token_cache.load(self._cache_key)
        if cached and cached[0] != stale and cached[1] > time.time() + 5:
            self._token, self._token_expires, self.token_scope = cached
            return True
        return False

    def _shared_token(self, stale: str | None) -> bool:
        """Take the token another process stored, or lock so that only this one fetches."""
        if stale:
            self._token_cache.invalidate(self._cache_key, stale)
        if self._take_cached(stale):
            return True
        self._token_cache.lock(self._cache_key)
        if self._take_cached(stale):
            self._token_cache.unlock(self._cache_key)
            return True
        return False

    async def _bearer(self, stale: str | None = None) -> str:
        assert self._token_lock is not None
        async with self._token_lock:
            # Another request may have refreshed it while we waited.
            if self._token is None or self._token == stale or time.time() >= self._token_expires:
                if self._token_cache is None:
                    await self._fetch_token()
                elif not await asyncio.to_thread(self._shared_token, stale):
                    try:
                        await self._fetch_token()
                        await asyncio.to_thread(self._token_cache.store, self._cache_key, self._token,
                                                self._token_expires, self.token_scope)
                    finally:
                        await asyncio.to_thread(self._token_cache.unlock, self._cache_key)
            assert self._token is not None
            return self._token

    def _backoff(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.settings.backoff_max * 3)
            except ValueError:
                pass
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter: parallel tasks don't retry in lockstep

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      params: dict[str, Any] | None = None) -> ApiResponse:
        assert self._session is not None and self.limit is not None
        url = f"{self.settings.base_url}{path}"
        attempt = 0
        async with self.limit:
            while True:
                attempt += 1
                token = await self._bearer()
                self.stats["requests"] += 1
                sent = time.monotonic()
                try:
                    async with self._session.request(method, url, json=json_body, params=params,
                                                     headers={"Authorization": f"Bearer {token}"}) as resp:
                        text = await resp.text()
                        status, headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
                except aiohttp.ClientConnectorCertificateError as exc:
                    raise self._certificate_refused(exc) from None
                except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as exc:
                    if attempt >= self.settings.max_attempts:
                        raise EdFiUnavailable(f"{method} {path}: no answer after {attempt} attempts ({exc!r}). "
                                              f"Fix: check that the ODS/API is up, then rerun") from exc
                    self.stats["retries"] += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                self.limit.record(status, time.monotonic() - sent)
                if status == 401 and attempt < self.settings.max_attempts:
                    # Expired or revoked (an ODS restart forgets its tokens): a new token and a retry,
                    # again if it happens again during the backoffs; it counts as an attempt.
                    await self._bearer(stale=token)
                    continue
                if status in RETRYABLE_STATUSES and attempt < self.settings.max_attempts:
                    self.stats["retries"] += 1
                    await asyncio.sleep(self._backoff(attempt, headers.get("retry-after")))
                    continue
                try:
                    body: Any = json.loads(text) if text else None
                except ValueError:
                    body = text
                return ApiResponse(status, headers, body, attempt)

    async def root(self) -> OdsInfo:
        """``GET /``, which needs no token; EdFiUnavailable when the server does not answer it."""
        assert self._session is not None
        url = f"{self.settings.base_url}/"
        try:
            async with self._session.get(url) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise EdFiUnavailable(f"cannot reach the Ed-Fi API at {self.settings.base_url}: "
                                  f"{exc or type(exc).__name__}") from exc
        if status != 200:
            raise EdFiUnavailable(f"GET {url} answered {status}: is this the base URL of an Ed-Fi ODS/API?")
        try:
            return OdsInfo.from_root(json.loads(text))
        except ValueError:
            raise EdFiUnavailable(f"GET {url} did not answer JSON: is this the base URL of an Ed-Fi ODS/API?") \
                from None

    async def authenticate(self) -> tuple[str, ...]:
        """A token for these credentials: with a token cache, the live cached one when there is one
        (else a token request whose answer the run then shares), so checking costs no token of the
        client's limit; without, a token request of its own. The education organization ids the token
        response named (``scope``), empty when the client is unrestricted or the server does not say.
        EdFiUnavailable when refused."""
        if self._token_cache is not None:
            await self._bearer()
        else:
            await self._fetch_token()
        return tuple(part for part in self.token_scope.replace(",", " ").split() if part.isdigit())

    async def get_all(self, path: str, *, page_size: int = 500, params: dict[str, Any] | None = None):
        """Page through a collection (offset/limit), yielding records."""
        offset = 0
        while True:
            response = await self.request("GET", path, params={**(params or {}), "offset": offset,
                                                                "limit": page_size})
            if not response.ok:
                raise EdFiUnavailable(f"GET {path} failed with {response.status}: {response.body}")
            page = response.body or []
            for item in page:
                yield item
            if len(page) < page_size:
                return
            offset += page_size
