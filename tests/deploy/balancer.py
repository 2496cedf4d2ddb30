"""A round-robin reverse proxy in front of the bot workers: the stand-in, on a machine without Docker, for the
nginx of docker-compose.yml (deploy/nginx.conf), doing what that config does:

- each request goes to the next worker in turn;
- a worker that refuses the connection, drops it mid-request, or answers 502/503/504 is skipped and the same
  request goes to the next one (nginx: `proxy_next_upstream error timeout http_502 http_503 http_504
  non_idempotent`) — safe because a worker answers 200 only after it handled the update, and the database
  drops an update handled twice;
- GET /_balancer/log lists which worker answered each update (tests assert alternation with it).

Run: python -m tests.deploy.balancer --port 0 --upstream http://127.0.0.1:8441 --upstream http://127.0.0.1:8442
Prints `BALANCER_READY {"port": N}` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
from typing import Any

import tornado.httpclient
import tornado.httpserver
import tornado.httputil
import tornado.netutil
import tornado.web

READY_PREFIX = "BALANCER_READY"
RETRY_STATUSES = {502, 503, 504, 599}  # 599: tornado's "no HTTP response" (refused, reset, timed out)
FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class Balancer:
    def __init__(self, upstreams: list[str], *, timeout: float) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.timeout = timeout
        self._turn = itertools.count()
        self.log: list[dict[str, Any]] = []
        self.client = tornado.httpclient.AsyncHTTPClient(max_clients=1024)

    async def forward(self, request: tornado.httputil.HTTPServerRequest) -> tornado.httpclient.HTTPResponse | None:
        start = next(self._turn)
        tried: list[dict[str, Any]] = []
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        for i in range(len(self.upstreams)):
            upstream = self.upstreams[(start + i) % len(self.upstreams)]
            try:
                response = await self.client.fetch(
                    tornado.httpclient.HTTPRequest(
                        upstream + request.uri,
                        method=request.method,
                        headers=headers,
                        body=request.body if request.method == "POST" else None,
                        request_timeout=self.timeout,
                        connect_timeout=2.0,
                    ),
                    raise_error=False,  # still raises for "no response at all" (refused, reset, timeout)
                )
            except (OSError, tornado.httpclient.HTTPClientError) as exc:
                tried.append({"upstream": upstream, "status": 599, "error": type(exc).__name__})
                continue
            tried.append({"upstream": upstream, "status": response.code})
            if response.code not in RETRY_STATUSES:
                self._remember(request, tried)
                return response
        self._remember(request, tried)
        return None

    def _remember(self, request: tornado.httputil.HTTPServerRequest, tried: list[dict[str, Any]]) -> None:
        if request.method != "POST":
            return
        try:
            update_id = json.loads(request.body).get("update_id")
        except (ValueError, AttributeError):
            update_id = None
        self.log.append({"update_id": update_id, "tried": tried, "upstream": tried[-1]["upstream"]})


class _Proxy(tornado.web.RequestHandler):
    def initialize(self, balancer: Balancer) -> None:  # type: ignore[override]
        self.balancer = balancer

    async def _handle(self) -> None:
        response = await self.balancer.forward(self.request)
        if response is None:
            self.set_status(502)
            self.finish({"ok": False, "description": "no worker answered"})
            return
        self.set_status(response.code)
        if response.body:
            self.set_header("Content-Type", response.headers.get("Content-Type", "application/json"))
            self.finish(response.body)
        else:
            self.finish()

    async def post(self) -> None:
        await self._handle()

    async def get(self) -> None:
        await self._handle()


class _Log(tornado.web.RequestHandler):
    def initialize(self, balancer: Balancer) -> None:  # type: ignore[override]
        self.balancer = balancer

    def get(self) -> None:
        self.finish({"log": self.balancer.log})


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--upstream", action="append", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    balancer = Balancer(args.upstream, timeout=args.timeout)
    app = tornado.web.Application(
        [(r"/_balancer/log", _Log, {"balancer": balancer}), (r"/.*", _Proxy, {"balancer": balancer})],
        log_function=lambda handler: None,
    )
    sockets = tornado.netutil.bind_sockets(args.port, address=args.host)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(f"{READY_PREFIX} {json.dumps({'port': sockets[0].getsockname()[1]})}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent holds our stdin; when it goes away, so do we.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(1) else None)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
