"""Cross-site request forgery: the pages' actions are POSTs, and the browser sends Airflow's
``_token`` cookie with any POST, wherever it comes from. So every POST must come from this site
(its ``Origin``, or ``Referer``, when the browser sends one, names this host) and carry the form
token the page gave this user (an HMAC of the user id and the time, under Airflow's ``[api]
secret_key``, which every api-server of an installation shares). Anything else is a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from fastapi import HTTPException, Request, status
from starlette.datastructures import FormData

FIELD = "csrf_token"
VALID_FOR = 12 * 3600  # seconds: a page left open over a working day still posts


def _key() -> bytes:
    from airflow.api_fastapi.auth.tokens import get_signing_key

    return get_signing_key("api", "secret_key").encode()


def _mac(user_id: str, issued: int) -> str:
    return hmac.new(_key(), f"edfi-sync|{user_id}|{issued}".encode(), hashlib.sha256).hexdigest()


def token(user: BaseUser) -> str:
    """The form token of the pages a user is shown."""
    issued = int(time.time())
    return f"{issued}.{_mac(str(user.get_id()), issued)}"


def _valid(user: BaseUser, value: str) -> bool:
    issued, _, mac = value.partition(".")
    if not issued.isdigit() or not 0 <= time.time() - int(issued) <= VALID_FOR:
        return False
    return hmac.compare_digest(mac, _mac(str(user.get_id()), int(issued)))


def _same_site(request: Request) -> bool:
    """No Origin or Referer from another host (a browser sends Origin with every cross-site POST)."""
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")} - {None}
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            return urlsplit(value).netloc in hosts
    return True


async def checked_form(request: Request, user: BaseUser) -> FormData:
    """The POST's form, once it is known to come from these pages: a POST from another site, or
    without this user's form token, is refused (403)."""
    if not _same_site(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a request from another site is refused: act from the "
                                                       "Ed-Fi sync pages themselves")
    form = await request.form()
    if not _valid(user, str(form.get(FIELD) or "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form is missing its token or is too old: reload the "
                                                       "page and submit again")
    return form
