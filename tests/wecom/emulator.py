"""A local WeCom server for the tests: the API the channel calls (gettoken, message/send, media/upload,
media/get) and the callbacks WeCom makes — encrypted and signed exactly as WeCom does (AES-256-CBC with the
EncodingAESKey, PKCS#7 to 32 bytes, the corp id as receive id, SHA-1 msg_signature) and POSTed to the worker.

It checks what real WeCom checks: the access token (40014 unknown, 42001 expired), the app id, the recipient, the
2,048-byte text limit, at most 6 card buttons; `fail_next` makes the next calls of an endpoint answer an errcode
(45009, 42001, …), drop the connection, or let one through first ("ok")."""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.channels.wecom.crypto import WeComCrypto, signature

CORP_ID = "ww1436e0e65a779aee"
AGENT_ID = 1000002
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SECRET = "S0zjZTT7lnk48cC5y6PWVXpZJVKtGly2c1zJt5Fm1Rs"
MEMBERS = {"wangxl", "lisi", "zhangsan", "trainer01", "admin01"}


@dataclass
class Sent:
    touser: str
    msgtype: str
    body: dict[str, Any]
    media: bytes = b""  # an image's or file's bytes, from its upload

    @property
    def text(self) -> str:
        return str(self.body.get("content", ""))

    @property
    def buttons(self) -> dict[str, str]:
        return {b["text"]: b["key"] for b in self.body.get("button_list", [])}


@dataclass
class WeComEmulator:
    crypto: WeComCrypto = field(default_factory=lambda: WeComCrypto(TOKEN, AES_KEY, CORP_ID))
    sent: list[Sent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # endpoint per call, in order
    tokens: dict[str, float] = field(default_factory=dict)  # access token → expiry (epoch seconds)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    failures: dict[str, list[int | str]] = field(default_factory=dict)
    worker_url: str = ""
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(6_000_000_000_000_000_000))
    _http: tornado.httpserver.HTTPServer | None = None
    _client: httpx.AsyncClient | None = None

    # --- the API ------------------------------------------------------------------------------------------------

    def start(self) -> str:
        if self._http is not None:  # already serving (several workers share one WeCom)
            return f"http://127.0.0.1:{self.port}"
        app = tornado.web.Application(
            [
                (r"/cgi-bin/gettoken", _GetToken, {"emu": self}),
                (r"/cgi-bin/message/send", _Send, {"emu": self}),
                (r"/cgi-bin/media/upload", _Upload, {"emu": self}),
                (r"/cgi-bin/media/get", _MediaGet, {"emu": self}),
            ]
        )
        self._http = tornado.httpserver.HTTPServer(app, max_body_size=30 * 1024 * 1024)
        [sock] = tornado.netutil.bind_sockets(0, address="127.0.0.1", family=socket.AF_INET)
        self._http.add_sockets([sock])
        self.port = sock.getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._http is not None:
            self._http.stop()
            await self._http.close_all_connections()

    def fail_next(self, endpoint: str, *failures: int | str) -> None:
        """errcodes ("drop": close the connection; "ok": answer normally) for the next calls of `endpoint`."""
        self.failures.setdefault(endpoint, []).extend(failures)

    def expire_tokens(self) -> None:
        self.tokens = {token: 0.0 for token in self.tokens}

    def fetches(self) -> int:
        return self.calls.count("gettoken")

    def to(self, user: str) -> list[Sent]:
        return [s for s in self.sent if s.touser == user]

    # --- callbacks, as WeCom makes them ------------------------------------------------------------------------

    def envelope(
        self,
        fields: dict[str, str | int],
        *,
        corp_id: str = CORP_ID,
        crypto: WeComCrypto | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> tuple[dict[str, str], str]:
        """The query (msg_signature, timestamp, nonce) and body of the callback carrying `fields`."""
        inner = "<xml>" + "".join(_element(k, v) for k, v in fields.items()) + "</xml>"
        crypto = crypto or self.crypto
        encrypted = crypto.encrypt(inner)
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(secrets.randbelow(10**9))
        query = {"msg_signature": signature(crypto.token, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
        body = (
            f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[{AGENT_ID}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return query, body

    def text_fields(self, user: str, content: str, *, msg_id: int | None = None) -> dict[str, str | int]:
        return {
            "ToUserName": CORP_ID,
            "FromUserName": user,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id or next(self._ids),
            "AgentID": AGENT_ID,
        }

    def click_fields(self, user: str, key: str, *, create_time: int | None = None) -> dict[str, str | int]:
        return {
            "ToUserName": CORP_ID,
            "FromUserName": user,
            "CreateTime": create_time or next(self._ids),
            "MsgType": "event",
            "Event": "template_card_event",
            "EventKey": key,
            "TaskId": "pc-task",
            "CardType": "button_interaction",
            "ResponseCode": secrets.token_hex(8),
            "AgentID": AGENT_ID,
        }

    def file_fields(self, user: str, filename: str, data: bytes) -> dict[str, str | int]:
        media_id = "m-" + secrets.token_hex(8)
        self.media[media_id] = (filename, data)
        return {
            "ToUserName": CORP_ID,
            "FromUserName": user,
            "CreateTime": int(time.time()),
            "MsgType": "file",
            "MediaId": media_id,
            "FileName": filename,
            "MsgId": next(self._ids),
            "AgentID": AGENT_ID,
        }

    async def post(self, query: dict[str, str], body: str, *, url: str = "") -> httpx.Response:
        """POST a callback to `url` (a worker's callback URL; the last worker started by default)."""
        if self._client is None:  # one client: building one (its TLS context) costs more than the callback
            self._client = httpx.AsyncClient(timeout=30)
        return await self._client.post(url or self.worker_url, params=query, content=body.encode())


def _element(key: str, value: str | int) -> str:
    return f"<{key}>{value}</{key}>" if isinstance(value, int) else f"<{key}><![CDATA[{escape(value)}]]></{key}>"


class _Api(tornado.web.RequestHandler):
    endpoint = ""

    def initialize(self, emu: WeComEmulator) -> None:  # type: ignore[override]
        self.emu = emu

    def answer(self, payload: dict[str, Any]) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"errcode": 0, "errmsg": "ok", **payload}, ensure_ascii=False))

    def error(self, errcode: int, errmsg: str) -> None:
        self.answer({"errcode": errcode, "errmsg": errmsg})

    def failure(self) -> bool:
        self.emu.calls.append(self.endpoint)
        queue = self.emu.failures.get(self.endpoint)
        if not queue:
            return False
        failure = queue.pop(0)
        if failure == "ok":
            return False
        if failure == "drop":
            assert self.request.connection is not None
            self.request.connection.close()  # type: ignore[attr-defined]
        else:
            self.error(int(failure), f"test failure {failure}")
        return True

    def token_ok(self) -> bool:
        token = self.get_query_argument("access_token", "")
        if token not in self.emu.tokens:
            self.error(40014, "invalid access_token")
            return False
        if self.emu.tokens[token] < time.time():
            self.error(42001, "access_token expired")
            return False
        return True


class _GetToken(_Api):
    endpoint = "gettoken"

    def get(self) -> None:
        if self.failure():
            return
        if self.get_query_argument("corpid", "") != CORP_ID or self.get_query_argument("corpsecret", "") != SECRET:
            self.error(40001, "invalid credential")
            return
        token = "at-" + secrets.token_hex(16)
        self.emu.tokens[token] = time.time() + 7200
        self.answer({"access_token": token, "expires_in": 7200})


class _Send(_Api):
    endpoint = "message/send"

    def post(self) -> None:
        if self.failure() or not self.token_ok():
            return
        data = json.loads(self.request.body)
        if data.get("agentid") != AGENT_ID:
            self.error(40056, "invalid agentid")
            return
        kind = data["msgtype"]
        body = data[kind]
        if kind in {"text", "markdown"} and len(body["content"].encode()) > 2048:
            self.error(44004, "content size out of limit")
            return
        if kind == "template_card" and len(body.get("button_list", [])) > 6:
            self.error(40058, "button_list exceeds 6")
            return
        media = b""
        if kind in {"image", "file"}:
            if body["media_id"] not in self.emu.media:
                self.error(40007, "invalid media_id")
                return
            media = self.emu.media[body["media_id"]][1]
        if data["touser"] not in MEMBERS:
            self.answer({"invaliduser": data["touser"], "msgid": ""})
            return
        self.emu.sent.append(Sent(data["touser"], kind, body, media))
        self.answer({"invaliduser": "", "msgid": secrets.token_hex(8)})


class _Upload(_Api):
    endpoint = "media/upload"

    def post(self) -> None:
        if self.failure() or not self.token_ok():
            return
        [part] = self.request.files["media"]
        media_id = "up-" + secrets.token_hex(8)
        self.emu.media[media_id] = (part["filename"], part["body"])
        self.answer(
            {"type": self.get_query_argument("type"), "media_id": media_id, "created_at": str(int(time.time()))}
        )


class _MediaGet(_Api):
    endpoint = "media/get"

    def get(self) -> None:
        if self.failure() or not self.token_ok():
            return
        found = self.emu.media.get(self.get_query_argument("media_id", ""))
        if found is None:
            self.error(40007, "invalid media_id")
            return
        name, data = found
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
        self.finish(data)
