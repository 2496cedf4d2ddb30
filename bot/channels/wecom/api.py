"""The WeCom server API the channel uses: gettoken, message/send, media/upload, media/get (`base_url` points at
qyapi.weixin.qq.com, a private deployment, or the tests' emulator).

The access token (valid 7,200 s) is fetched once and shared by every worker through the database
(`SharedAccessToken`); a call refused with 40014/42001/41001 (invalid, expired, missing token) gets a fresh one and
is tried again once; 45009 (over the call limit) backs off and tries again a few times, then raises `RateLimited`
so the delivery stays pending and the next sweep sends it. Neither the secret nor a token is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote

import httpx

from storage.access_token_repository import AccessTokenRepository
from storage.db import UnitOfWork

log = logging.getLogger(__name__)
TOKEN_REFUSED = {40014, 42001, 41001}  # invalid, expired, missing access_token
RATE_LIMITED = 45009
INVALID_USER = 81013  # message/send answered errcode 0 with `invaliduser`: nobody of that id in the app
TOKEN_MARGIN = timedelta(minutes=5)  # a token this close to expiring is replaced before use
DEFAULT_RATE_BACKOFF = (1.0, 2.0, 4.0)
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


class WeComApiError(Exception):
    """WeCom answered with an errcode other than 0 (or not at all as expected)."""

    def __init__(self, endpoint: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{endpoint}: errcode {errcode} ({errmsg})")
        self.endpoint, self.errcode, self.errmsg = endpoint, errcode, errmsg


class RateLimited(WeComApiError):
    """45009 after every back-off: try again later."""


class TokenSource(Protocol):
    def get(self, *, not_this: str = "") -> str:
        """A valid access token (blocking); `not_this`: the one WeCom just refused."""
        ...


def fetch_access_token(base_url: str, *, corp_id: str, secret: str, timeout: float = 10.0) -> tuple[str, int]:
    """gettoken (blocking): the token and its lifetime in seconds."""
    response = httpx.get(
        base_url.rstrip("/") + "/cgi-bin/gettoken", params={"corpid": corp_id, "corpsecret": secret}, timeout=timeout
    )
    data = _json(response, "gettoken")
    return str(data["access_token"]), int(data.get("expires_in", 7200))


@dataclass
class SharedAccessToken:
    """One token for every worker: read from the database; the worker holding the row lock fetches a new one
    when it is missing, about to expire, or the one WeCom just refused."""

    uow: UnitOfWork
    key: str
    fetch: Callable[[], tuple[str, int]]
    clock: Callable[[], datetime]
    repository: AccessTokenRepository = field(default_factory=AccessTokenRepository)
    fetches: int = 0  # by this process (tests, logs)

    def _usable(self, token: str, expires_at: datetime | None, not_this: str) -> bool:
        return bool(token) and token != not_this and expires_at is not None and expires_at - TOKEN_MARGIN > self.clock()

    def get(self, *, not_this: str = "") -> str:
        with self.uow.read() as session:
            stored = self.repository.read(session, self.key)
        if stored is not None and self._usable(stored.token, stored.expires_at, not_this):
            return stored.token
        with self.uow.begin() as session:
            locked = self.repository.lock(session, self.key)  # other workers wait here, then read the new one
            if self._usable(locked.token, locked.expires_at, not_this):
                return locked.token
            token, lifetime = self.fetch()
            self.fetches += 1
            now = self.clock()
            self.repository.store(session, self.key, token=token, expires_at=now + timedelta(seconds=lifetime), now=now)
            log.info("fetched a new WeCom access token (valid %d s)", lifetime)
            return token


def _json(response: httpx.Response, endpoint: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise WeComApiError(endpoint, -1, f"HTTP {response.status_code}, not JSON") from None
    if not isinstance(data, dict):
        raise WeComApiError(endpoint, -1, "not a JSON object")
    errcode = int(data.get("errcode", 0) or 0)
    if errcode == RATE_LIMITED:
        raise RateLimited(endpoint, errcode, str(data.get("errmsg", "")))
    if errcode:
        raise WeComApiError(endpoint, errcode, str(data.get("errmsg", "")))
    return data


class WeComApi:
    """message/send, media/upload and media/get with the shared token, refreshed when refused."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        rate_backoff: Sequence[float] = DEFAULT_RATE_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.rate_backoff = tuple(rate_backoff)
        self.sleep = sleep
        self._token = ""
        self._refresh = asyncio.Lock()

    async def _current_token(self, *, refused: str = "") -> str:
        async with self._refresh:  # one thread per process asks the database (or WeCom) at a time
            if not self._token or self._token == refused:
                self._token = await asyncio.to_thread(self.tokens.get, not_this=refused)
            return self._token

    async def _call(self, endpoint: str, request: Callable[[str], Awaitable[httpx.Response]]) -> httpx.Response:
        """Run `request(token)`; a refused token is replaced once, 45009 waits and retries."""
        token = await self._current_token()
        refreshed = False
        waits = list(self.rate_backoff)
        while True:
            response = await request(token)
            if "json" not in response.headers.get("content-type", "json"):
                return response  # media/get: the file itself
            try:
                _json(response, endpoint)
                return response
            except RateLimited:
                if not waits:
                    raise
                pause = waits.pop(0)
                log.warning("WeCom %s: over the call limit (45009); waiting %.1f s", endpoint, pause)
                await self.sleep(pause)
            except WeComApiError as exc:
                if exc.errcode not in TOKEN_REFUSED or refreshed:
                    raise
                refreshed = True
                log.info("WeCom %s refused the access token (%d); fetching a new one", endpoint, exc.errcode)
                token = await self._current_token(refused=token)

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """message/send; the answer (msgid, …). Raises WeComApiError when WeCom refuses it."""
        response = await self._call(
            "message/send",
            lambda token: self.http.post("/cgi-bin/message/send", params={"access_token": token}, json=payload),
        )
        data = _json(response, "message/send")
        if data.get("invaliduser"):
            raise WeComApiError("message/send", INVALID_USER, "the recipient is not a member of this app")
        return data

    async def upload(self, kind: str, filename: str, data: bytes) -> str:
        """media/upload (image or file, kept 3 days by WeCom): the media_id."""
        response = await self._call(
            "media/upload",
            lambda token: self.http.post(
                "/cgi-bin/media/upload",
                params={"access_token": token, "type": kind},
                files={"media": (filename, data, "application/octet-stream")},
            ),
        )
        return str(_json(response, "media/upload")["media_id"])

    async def download(self, media_id: str, *, max_bytes: int) -> tuple[str, bytes]:
        """media/get: the file's name and bytes; ValueError when it is over `max_bytes`."""
        response = await self._call(
            "media/get",
            lambda token: self.http.get("/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}),
        )
        if "json" in response.headers.get("content-type", ""):
            _json(response, "media/get")
            raise WeComApiError("media/get", -1, "no file in the answer")
        size = response.headers.get("content-length")
        if (size is not None and size.isdigit() and int(size) > max_bytes) or len(response.content) > max_bytes:
            raise ValueError("file too large")
        return _filename(response.headers.get("content-disposition", "")), response.content


def _filename(disposition: str) -> str:
    """The file name of a Content-Disposition: RFC 5987 (filename*=UTF-8''…) or a plain one in UTF-8 bytes."""
    found = _FILENAME.search(disposition)
    if not found:
        return "file"
    name = found.group(1)
    if "filename*=" in disposition.lower():
        return unquote(name) or "file"
    try:
        return name.encode("latin-1").decode("utf-8") or "file"
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name or "file"
