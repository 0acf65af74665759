"""The sandbox as a raw ASGI application: one generic handler for every resource.

Routes (shared/edfi-api/CONTRACT.md §1-§4):
  POST /oauth/token, POST /oauth/token_info
  GET  /, /metadata, /metadata/data/v3/dependencies,
       /metadata/data/v3/[{year}/]{resources|descriptors}/swagger.json
  /data/v3/[{year}/]ed-fi/{resource}[/{id}]   GET POST PUT DELETE
  /admin/...                                   see ADMIN_HELP
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import time
from datetime import date
from urllib.parse import parse_qsl

from . import errors
from .config import SandboxConfig, read_descriptor_file
from .contract import EDORG_SPACE, RELATIONSHIP_RESOURCE, Checked, Resource, load_contract, pascal, singular
from .errors import ApiError
from .faults import NO_FAULT, FaultInjector, Faults, RequestLog
from .journal import Journal
from .metadata import metadata_index, swagger, version_info
from .store import Record, Store
from .tokens import TokenError, TokenService

log = logging.getLogger(__name__)

FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR = 1991, 2050   # the ODS's preloaded SchoolYearType range
DEFAULT_LIMIT = 25
_JSON = [(b"content-type", b"application/json; charset=utf-8")]

ADMIN_HELP = {
    "GET /admin": "this list",
    "GET /admin/faults": "the fault settings in force",
    "PUT /admin/faults": "replace the fault settings (JSON body, same keys as --faults)",
    "PATCH /admin/faults": "change some fault settings",
    "DELETE /admin/faults": "no faults",
    "GET /admin/requests?since=N": "the request log (method, path, query, status, ms, time, fault)",
    "DELETE /admin/requests": "clear the request log",
    "GET /admin/stores": "stores and their record counts per resource",
    "GET /admin/records/{resource}?schoolYear=Y": "every record of a resource, bypassing authorization",
    "POST /admin/records/{resource}?schoolYear=Y": "insert or update a record as another client would (no authorization)",
    "DELETE /admin/records/{resource}/{id}?schoolYear=Y": "delete a record behind the clients' back (dependents ignored)",
    "POST /admin/reset": "forget every record (as --reset does) and start again from the preloaded data",
    "GET /admin/tokens": "live token count per client key",
    "POST /admin/tokens/expire": "expire every issued token now",
}


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body: bytes = b"", headers: list | None = None):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else list(_JSON)


def _json_response(status: int, data, headers: list | None = None) -> Response:
    return Response(status, json.dumps(data).encode(), list(_JSON) + (headers or []))


class SandboxApp:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.extra_descriptors = [row for path in config.descriptor_files for row in read_descriptor_file(path)]
        self.contract = load_contract(tuple(row["descriptor"] for row in self.extra_descriptors))
        self.tokens = TokenService(config.clients, config.max_tokens)
        self.faults = FaultInjector(config.faults)
        self.requests = RequestLog()
        self.in_flight = 0  # requests being served (not /admin): the capacity model's load
        self.journal = Journal(config.database_url) if config.database_url else None
        self.stores: dict[str, Store] = {}
        self._persisted_stores: set[str] = set()
        self._store_locks: dict[str, asyncio.Lock] = {}
        self._start_lock: asyncio.Lock | None = None
        self._started = False
        self.startup_error: str | None = None
        # 7.3 pages by token too (Next-Page-Token / pageToken + pageSize); tokens here encode an offset.
        self.key_set_paging = not config.api_version.startswith("5")

    # ---- life cycle ------------------------------------------------------------------------------
    async def startup(self) -> None:
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            if self.journal is not None:
                await self.journal.open(self.config.reset)
                self._persisted_stores = set(await self.journal.stores())
            self._started = True
            for name in sorted(self._persisted_stores | {""}):
                await self.store(name)

    async def shutdown(self) -> None:
        if self.journal is not None:
            await self.journal.close()
        self._started = False

    async def reset(self) -> None:
        """Start again from the preloaded data (every store, every year)."""
        if self.journal is not None:
            await self.journal.reset()
        self.stores.clear()
        self._persisted_stores.clear()
        await self.store("")

    async def store(self, name: str) -> Store:
        """The shared store ('') or a school year's, created (and seeded) on first use."""
        found = self.stores.get(name)
        if found is not None:
            return found
        lock = self._store_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self.stores:
                return self.stores[name]
            store = Store(name, self.contract)
            new: list[Record] = []
            if name in self._persisted_stores:
                for row in await self.journal.load(name):
                    self._restore(store, row)
            else:
                if self.journal is not None:
                    await self.journal.create_store(name)
                new += self._seed(store)
            new += self._add_descriptors(store, self.extra_descriptors)
            if self.journal is not None and new:
                await asyncio.gather(*(self.journal.upsert(name, record) for record in new))
            self.stores[name] = store
            return store

    def _restore(self, store: Store, row: tuple) -> None:
        record_id, resource_name, seq, etag, modified, body = row
        resource = self.contract.resources.get(resource_name)
        if resource is None:
            return   # a resource this version no longer serves
        checked, _ = resource.check(body, self.contract.descriptor_space)
        if checked is None:
            log.warning("stored %s %s no longer validates; skipped", resource_name, record_id)
            return
        store.insert(resource, body, checked.key, self._refs(store, checked), record_id=record_id, etag=etag,
                     modified=modified, seq=seq)

    def _seed(self, store: Store) -> list[Record]:
        years = self.contract.resources["schoolYearTypes"]
        today = date.today()
        current = today.year + 1 if today.month >= 7 else today.year
        records = []
        for year in range(FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR + 1):
            body = {"schoolYear": year, "currentSchoolYear": year == current, "schoolYearDescription": f"{year - 1}-{year}"}
            records.append(store.insert(years, body, (year,), (), record_id=store.seed_id(years, (year,))))
        return records + self._add_descriptors(store, self.contract.default_descriptors)

    def _add_descriptors(self, store: Store, rows: list[dict]) -> list[Record]:
        added = []
        for row in rows:
            resource = self.contract.resources[self.contract.descriptor_names[row["descriptor"]]]
            key = (row["namespace"], row["codeValue"])
            if store.exists(resource.space, key):
                continue
            body = {field: row[field] for field in ("codeValue", "namespace", "shortDescription", "description")
                    if row.get(field) is not None}
            added.append(store.insert(resource, body, key, (), record_id=store.seed_id(resource, key)))
        return added

    # ---- ASGI -------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        if not self._started:
            await self.startup()
        method, path = scope["method"], scope["path"]
        query = scope["query_string"].decode("latin-1")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        admin = path.startswith("/admin")
        if not admin:
            self.in_flight += 1
        try:
            await self._serve(scope, receive, send, started, method, path, query, body, admin)
        finally:
            if not admin:
                self.in_flight -= 1

    async def _serve(self, scope, receive, send, started: float, method: str, path: str, query: str, body: bytes,
                     admin: bool) -> None:
        in_flight = self.in_flight
        decision = NO_FAULT if admin else self.faults.decide(method, path, in_flight)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.hang or decision.drop:
            if decision.hang:
                await _wait_for_disconnect(receive, self.faults.faults.hang_seconds)
            self.requests.add(method, path, query, 0, started, "hang" if decision.hang else "drop", in_flight)
            await _abort(send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if decision.status:
            response = self._injected(decision.status)
        else:
            try:
                response = await self._route(method, path, query, headers, body, scope)
            except ApiError as error:
                response = self._error(error, headers)
            except Exception:
                log.exception("sandbox error on %s %s", method, path)
                response = self._error(errors.system_error(), headers)
        response.headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        await send({"type": "http.response.body", "body": response.body})
        if not admin:
            self.requests.add(method, path, query, response.status, started,
                              f"status {decision.status}" if decision.status else None, in_flight)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:   # reported to the server, which exits
                    self.startup_error = str(exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _error(self, error: ApiError, headers: dict) -> Response:
        version = self.config.api_version
        content = b"application/json; charset=utf-8" if version.startswith("5") else b"application/problem+json"
        return Response(error.status_for(version), error.render(version, headers.get("correlation-id")),
                        [(b"content-type", content)] + error.headers)

    def _injected(self, status: int) -> Response:
        if status == 429:
            return _json_response(429, {"message": "Too many requests. Try again later."},
                                  [(b"retry-after", str(self.faults.faults.retry_after).encode())])
        if status == 503:
            return _json_response(503, {"message": "The service is unavailable."})
        return self._error(errors.ApiError(status, "An unexpected error occurred on the server.",
                                           problem="system-error", detail="An unexpected problem has occurred."), {})

    # ---- routing ----------------------------------------------------------------------------------
    async def _route(self, method: str, path: str, query: str, headers: dict, body: bytes, scope) -> Response:
        parts = [part for part in path.split("/") if part]
        base = _base_url(scope, headers)
        head = parts[0] if parts else ""
        if head == "data" and len(parts) >= 4 and parts[1] == "v3":
            rest = parts[2:]
            year = ""
            if rest[0].isdigit():
                year, rest = rest[0], rest[1:]
                if not FIRST_SCHOOL_YEAR <= int(year) <= LAST_SCHOOL_YEAR:
                    return Response(404)
            if len(rest) in (2, 3) and rest[0] == "ed-fi":
                return await self._data(method, year, rest[1], rest[2] if len(rest) == 3 else None,
                                        query, headers, body, base)
            return Response(404)
        if head == "oauth":
            return self._oauth(method, parts, headers, body)
        if head == "admin":
            return await self._admin(method, parts[1:], query, body)
        if method != "GET":
            return Response(405)
        if not parts:
            return _json_response(200, version_info(base, self.config.api_version))
        if head == "metadata":
            return self._metadata(parts[1:], base)
        return Response(404)

    def _metadata(self, parts: list[str], base: str) -> Response:
        if not parts:
            return _json_response(200, metadata_index(base, None))
        if parts[:2] != ["data", "v3"]:
            return Response(404)
        rest = parts[2:]
        if rest == ["dependencies"]:
            return _json_response(200, self.contract.dependencies)
        year = None
        if rest and rest[0].isdigit():
            year, rest = rest[0], rest[1:]
        if not rest:
            return _json_response(200, metadata_index(base, year))
        if len(rest) == 2 and rest[0] in ("resources", "descriptors") and rest[1] == "swagger.json":
            return _json_response(200, swagger(self.contract, base, year, rest[0] == "descriptors"))
        return Response(404)

    def _oauth(self, method: str, parts: list[str], headers: dict, body: bytes) -> Response:
        if method != "POST":
            return Response(405)
        if parts == ["oauth", "token"]:
            lifetime = self.faults.faults.token_lifetime or self.config.token_lifetime
            try:
                return _json_response(200, self.tokens.request(headers, body, lifetime),
                                      [(b"cache-control", b"no-store")])
            except TokenError as error:
                extra = [(b"retry-after", str(error.retry_after).encode())] if error.retry_after else []
                return _json_response(error.status, error.body, extra)
        if parts == ["oauth", "token_info"]:
            if self.tokens.client_for(headers.get("authorization", "")) is None:
                return Response(401, b"", [(b"www-authenticate", b"Bearer")])
            form = dict(parse_qsl(body.decode("utf-8", "replace")))
            if "json" in headers.get("content-type", ""):
                form = json.loads(body or b"{}")
            return _json_response(200, self.tokens.info(str(form.get("token", ""))))
        return Response(404)

    # ---- the data management API --------------------------------------------------------------------
    async def _data(self, method: str, year: str, name: str, record_id: str | None, query: str,
                    headers: dict, body: bytes, base: str) -> Response:
        resource = self.contract.resources.get(name)
        if resource is None:
            return Response(404)
        client = self.tokens.client_for(headers.get("authorization", ""))
        if client is None:
            return Response(401, b"", [(b"www-authenticate", b'Bearer error="invalid_token"')])
        store = await self.store(year)
        if method == "GET":
            if record_id is None:
                return self._list(store, resource, query, client.claims)
            return self._get(store, resource, record_id, headers, client.claims)
        if resource.read_only and method in ("POST", "PUT", "DELETE"):
            raise errors.method_not_allowed(method)
        location_root = f"{base}/data/v3/" + (f"{year}/" if year else "") + f"ed-fi/{resource.name}/"
        if method == "POST" and record_id is None:
            record, created = await self._upsert(store, resource, _parse_body(body), client.claims)
            return Response(201 if created else 200, b"", [(b"location", (location_root + record.id).encode()),
                                                             (b"etag", f'"{record.etag}"'.encode())])
        if method == "PUT" and record_id is not None:
            record = await self._put(store, resource, record_id, _parse_body(body), headers, client.claims)
            return Response(204, b"", [(b"location", (location_root + record.id).encode()),
                                       (b"etag", f'"{record.etag}"'.encode())])
        if method == "DELETE" and record_id is not None:
            await self._delete(store, resource, record_id, headers, client.claims)
            return Response(204, b"", [])
        raise errors.method_not_allowed(method)

    def _list(self, store: Store, resource: Resource, query: str, claims) -> Response:
        offset, limit, total_count = 0, DEFAULT_LIMIT, False
        offset_paging = False
        page_token: str | None = None
        page_size: int | None = None
        conditions = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            lowered = name.lower()
            if lowered == "offset":
                offset, offset_paging = _int_parameter(value, "Offset must be greater than or equal to 0."), True
                if offset < 0:
                    raise errors.bad_parameter("Offset must be greater than or equal to 0.")
            elif lowered == "limit":
                limit, offset_paging = _int_parameter(value, self._limit_message()), True
                if not 0 <= limit <= self.config.page_size_limit:
                    raise errors.bad_parameter(self._limit_message())
            elif lowered == "totalcount":
                total_count = value.lower() == "true"
            elif lowered == "pagetoken" and self.key_set_paging:
                page_token = value
            elif lowered == "pagesize" and self.key_set_paging:
                page_size = _int_parameter(value, self._limit_message())
                if not 0 < page_size <= self.config.page_size_limit:
                    raise errors.bad_parameter(self._limit_message())
            elif lowered in resource.filters:
                _, path, kind = resource.filters[lowered]
                conditions.append((path, _typed(value, kind)))
        if page_token is not None or page_size is not None:
            if offset_paging:
                raise errors.bad_parameter("Both offset/limit and key set paging parameters are provided, "
                                           "but only one type of paging can be used.")
            if page_token is None or page_size is None:
                raise errors.bad_parameter("Page token and page size must both be provided for key set paging.")
            offset, limit = _token_offset(page_token), page_size
        records = store.by_resource[resource.name].values()
        if conditions or (claims is not None and (resource.edorg_paths or resource.student_path)):
            matched = [record for record in records
                       if all(resource.value_at(record.body, path) == value for path, value in conditions)
                       and self._allowed(store, claims, resource, record.body, creating=False) is None]
            total = len(matched)
            page = matched[offset:offset + limit]
        else:
            total = len(store.by_resource[resource.name])
            page = list(itertools.islice(records, offset, offset + limit))
        version = self.config.api_version
        payload = b"[" + b",".join(record.json_bytes(version) for record in page) + b"]"
        headers = list(_JSON) + ([(b"total-count", str(total).encode())] if total_count else [])
        if self.key_set_paging and page and offset + len(page) < total:
            headers.append((b"next-page-token", _offset_token(offset + len(page)).encode()))
        return Response(200, payload, headers)

    def _limit_message(self) -> str:
        if self.config.api_version.startswith("5"):
            return ("Limit must be omitted or set to a value between 1 and max value defined in configuration "
                    "file (defaultPageSizeLimit).")
        return f"Limit must be omitted or set to a value between 1 and {self.config.page_size_limit}."

    def _get(self, store: Store, resource: Resource, record_id: str, headers: dict, claims) -> Response:
        record = self._find(store, resource, record_id)
        self._authorize(store, claims, resource, record.body, creating=False)
        etag = f'"{record.etag}"'.encode()
        if _etag_value(headers.get("if-none-match")) == record.etag:
            return Response(304, b"", [(b"etag", etag)])
        return Response(200, record.json_bytes(self.config.api_version), list(_JSON) + [(b"etag", etag)])

    async def _upsert(self, store: Store, resource: Resource, body: dict, claims) -> tuple[Record, bool]:
        if "id" in body:
            raise errors.client_assigned_id()
        if resource.surrogate_id and resource.surrogate_id in body:
            raise errors.client_assigned_descriptor_id()
        checked = self._check(store, resource, body)
        existing = store.find(resource.space, checked.key)
        if existing is not None and existing.resource is not resource:
            raise errors.natural_key_conflict(resource.entity, _key_names(resource), checked.key, update=False)
        self._authorize(store, claims, resource, body, creating=existing is None)
        refs = self._refs(store, checked)
        if existing is None:
            record = store.insert(resource, body, checked.key, refs)
        elif existing.body == body:
            return existing, False   # nothing changed: no write, same etag
        else:
            record = store.replace(existing, body, checked.key, refs)
        await self._persist(store, record)
        return record, existing is None

    async def _put(self, store: Store, resource: Resource, record_id: str, body: dict, headers: dict,
                   claims) -> Record:
        record = self._find(store, resource, record_id)
        if body.pop("id", record_id) != record_id:
            raise errors.client_assigned_id()
        if resource.surrogate_id and body.pop(resource.surrogate_id, record.seq) != record.seq:
            raise errors.client_assigned_descriptor_id()
        self._authorize(store, claims, resource, record.body, creating=False)
        if_match = _etag_value(headers.get("if-match"))
        if if_match is not None and if_match != record.etag:
            raise errors.stale_etag()
        checked = self._check(store, resource, body)
        if checked.key != record.key:
            if not resource.key_change:
                raise errors.key_change_not_supported(resource.entity)
            if store.exists(resource.space, checked.key):
                raise errors.natural_key_conflict(resource.entity, _key_names(resource), checked.key, update=True)
        self._authorize(store, claims, resource, body, creating=False)
        updated = store.replace(record, body, checked.key, self._refs(store, checked))
        await self._persist(store, updated)
        return updated

    async def _delete(self, store: Store, resource: Resource, record_id: str, headers: dict, claims, *,
                      keep_dependents: bool = True) -> None:
        record = self._find(store, resource, record_id)
        self._authorize(store, claims, resource, record.body, creating=False)
        if_match = _etag_value(headers.get("if-match"))
        if if_match is not None and if_match != record.etag:
            raise errors.stale_etag()
        dependent = store.referenced_by(record)
        if dependent is not None and keep_dependents:
            raise errors.dependent_item_exists(dependent)
        store.remove(record)
        if self.journal is not None:
            await self.journal.delete(store.name, record.id)

    def _find(self, store: Store, resource: Resource, record_id: str) -> Record:
        record = store.by_id.get(record_id)
        if record is None or record.resource is not resource:
            raise errors.not_found()
        return record

    async def _persist(self, store: Store, record: Record) -> None:
        if self.journal is not None:
            await self.journal.upsert(store.name, record)

    def _check(self, store: Store, resource: Resource, body: dict) -> Checked:
        """Model validation, then descriptors, then references: the order the ODS reports them in."""
        checked, problems = resource.check(body, self.contract.descriptor_space)
        if problems:
            raise errors.invalid_model(problems)
        for path, space, uri in checked.descriptors:
            if not store.exists(space, store.descriptor_key(uri)):
                raise errors.unresolved_descriptor(path, pascal(singular(space)), uri)
        missing = [reference for reference, key in checked.references if not store.exists(reference.space, key)]
        if missing:
            raise errors.unresolved_references(resource.entity, missing)
        return checked

    def _refs(self, store: Store, checked: Checked) -> tuple:
        return tuple([(space, store.descriptor_key(uri)) for _, space, uri in checked.descriptors]
                     + [(reference.space, key) for reference, key in checked.references])

    # ---- relationship-based authorization ---------------------------------------------------------------
    def _authorize(self, store: Store, claims, resource: Resource, body: dict, *, creating: bool) -> None:
        denied = self._allowed(store, claims, resource, body, creating=creating)
        if denied is not None:
            subject, hint = denied
            raise errors.not_authorized(claims, subject, hint)

    def _allowed(self, store: Store, claims, resource: Resource, body: dict, *, creating: bool):
        """None when the claims reach the record; else (the denied property, a hint)."""
        if claims is None:
            return None
        parent_lea = None
        if resource.space == EDORG_SPACE:
            # A new school is reachable through the LEA it names.
            parent_lea = (body.get("localEducationAgencyReference") or {}).get("localEducationAgencyId")
        for path in resource.edorg_paths:
            edorg = resource.value_at(body, path)
            if not self._edorg_reachable(store, claims, edorg) and parent_lea not in claims:
                return pascal(path[-1]), None
        # Creating a student needs no relationship yet; the SSA itself is what creates one.
        if resource.student_path and resource.name != RELATIONSHIP_RESOURCE and not (creating and resource.name == "students"):
            student = resource.value_at(body, resource.student_path)
            schools = store.student_schools.get(student, ())
            if not any(self._edorg_reachable(store, claims, school) for school in schools):
                return "StudentUniqueId", pascal(singular(RELATIONSHIP_RESOURCE))
        return None

    def _edorg_reachable(self, store: Store, claims, edorg) -> bool:
        return edorg in claims or store.school_lea(edorg) in claims

    # ---- admin ----------------------------------------------------------------------------------------
    async def _admin(self, method: str, parts: list[str], query: str, body: bytes) -> Response:
        params = {name.lower(): value for name, value in parse_qsl(query)}
        if not parts:
            return _json_response(200, ADMIN_HELP)
        head = parts[0]
        if head == "faults" and len(parts) == 1:
            if method in ("PUT", "PATCH"):
                data = _parse_body(body)
                if method == "PATCH":
                    data = {**self.faults.faults.to_dict(), **data}
                try:
                    self.faults.set(Faults.from_dict(data))
                except (TypeError, ValueError) as exc:
                    return _json_response(400, {"message": str(exc)})
            elif method == "DELETE":
                self.faults.set(Faults())
            return _json_response(200, self.faults.faults.to_dict())
        if head == "requests" and len(parts) == 1:
            if method == "DELETE":
                self.requests.clear()
                return Response(204, b"", [])
            return _json_response(200, self.requests.entries(int(params.get("since", 0))))
        if head == "reset" and method == "POST":
            await self.reset()
            return Response(204, b"", [])
        if head == "tokens":
            if parts[1:] == ["expire"] and method == "POST":
                self.tokens.expire_all()
            return _json_response(200, self.tokens.counts())
        if head == "stores":
            return _json_response(200, {store.name: {name: len(records) for name, records in store.by_resource.items()
                                                     if records} for store in self.stores.values()})
        if head == "records" and len(parts) in (2, 3):
            resource = self.contract.resources.get(parts[1])
            if resource is None:
                return Response(404)
            store = await self.store(params.get("schoolyear", ""))
            if method == "GET" and len(parts) == 2:
                version = self.config.api_version
                return _json_response(200, [record.document(version) for record in store.by_resource[resource.name].values()])
            if method == "POST" and len(parts) == 2:
                record, created = await self._upsert(store, resource, _parse_body(body), None)
                return _json_response(201 if created else 200, {"id": record.id})
            if method == "DELETE" and len(parts) == 3:
                await self._delete(store, resource, parts[2], {}, None, keep_dependents=False)
                return Response(204, b"", [])
        return Response(404)


def create_app(config: SandboxConfig | None = None) -> SandboxApp:
    return SandboxApp(config or SandboxConfig())


# ---- helpers -----------------------------------------------------------------------------------------
def _parse_body(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.malformed_body("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise errors.malformed_body("The request body must be a JSON object.")
    # Read-only members a client may echo back from a GET are ignored, as the ODS does.
    for name in [name for name in data if name.startswith("_") or name == "link"]:
        del data[name]
    return data


def _int_parameter(value: str, message: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.bad_parameter(message) from None


def _typed(value: str, kind: str):
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return object()   # matches nothing
    if kind == "boolean":
        return value.lower() == "true"
    if kind == "date":
        return value[:10]
    return value


def _offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _token_offset(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and int(value) >= 0:
            return int(value)
    except ValueError:
        pass
    raise errors.bad_parameter("The page token is not valid.")


def _key_names(resource: Resource) -> list[str]:
    return [pascal(path[-1]) for path in resource.key_paths]


def _etag_value(header: str | None) -> str | None:
    if not header:
        return None
    return header.strip().removeprefix("W/").strip('"')


def _base_url(scope, headers: dict) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _wait_for_disconnect(receive, seconds: float) -> None:
    async def disconnected():
        while (await receive())["type"] != "http.disconnect":
            pass
    try:
        await asyncio.wait_for(disconnected(), seconds)
    except asyncio.TimeoutError:
        pass


async def _abort(send) -> None:
    """Close the connection without a response (a dropped connection, as a client sees it)."""
    # uvicorn's send is bound to the request cycle, which holds the transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)   # let the server see the disconnect, so the response below is discarded
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"100")]})
    raise ConnectionAbortedError("fault injection: connection dropped")
