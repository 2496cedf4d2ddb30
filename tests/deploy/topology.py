"""docker-compose.yml's topology as processes on loopback, for a machine without a Docker engine.

PostgreSQL (the machine's server, a scratch database per topology), a Chroma server (`chroma run`), the Bot API
emulator (tests/e2e, delivering updates by webhook like Telegram), the balancer (tests/deploy/balancer.py, the
nginx stand-in) and N bot workers (`coach run` in webhook mode), plus the one-off jobs compose runs (`coach db
upgrade`, `coach ingest`, `coach quiz publish`) — every process configured only through the environment, as
compose configures the containers. Used by tests/deploy/test_topology.py and bench/load_bench.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.e2e.harness import BotApiEmulator
from tests.support.postgres import PostgresUnavailable, create_scratch_database, drop_database

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WEBHOOK_SECRET = "topology-secret_1"
WEBHOOK_PATH = "telegram/webhook"


class TopologyUnavailable(RuntimeError):
    """A part the topology needs (PostgreSQL, chroma, node) is missing here; the message says which."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, *, process: subprocess.Popen[Any] | None, timeout: float, what: str, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} while starting{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready at {url} within {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return "\n--- " + str(log) + "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Worker:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None


class Topology:
    """Start with `with Topology(root) as t:`; everything is stopped and the scratch database dropped at exit."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int = 2,
        dense_weight: float | None = None,
        refresh_seconds: float = 1.0,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.worker_count = workers
        self.dense_weight = dense_weight
        self.refresh_seconds = refresh_seconds
        self.extra_env = extra_env or {}
        self.database_url = ""
        self.chroma_port = 0
        self.balancer_port = 0
        self.workers: dict[str, Worker] = {}
        self.emulator: BotApiEmulator | None = None
        self._processes: list[subprocess.Popen[Any]] = []
        self._database_name = ""

    # ---- lifecycle

    def __enter__(self) -> Topology:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._create_database()
        self._start_chroma()
        self.emulator = BotApiEmulator(request_timeout=60).start()
        ports = [free_port() for _ in range(self.worker_count)]
        self._start_balancer([f"http://127.0.0.1:{p}" for p in ports])
        self.job("db", "upgrade")  # compose's prestart
        for number, port in enumerate(ports, start=1):
            self.start_worker(f"worker{number}", port)
        for worker in self.workers.values():
            self.wait_ready(worker)

    def close(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.emulator is not None:
            self.emulator.stop()
        if self._database_name:
            drop_database(self._database_name)
            self._database_name = ""

    # ---- parts

    def _create_database(self) -> None:
        try:
            self._database_name, self.database_url = create_scratch_database("coach_topology")
        except PostgresUnavailable as exc:
            raise TopologyUnavailable(str(exc)) from exc

    def _start_chroma(self) -> None:
        executable = shutil.which("chroma") or str(BIN / "chroma")
        if not Path(executable).exists():
            raise TopologyUnavailable("the chroma command (chromadb package) is not installed")
        self.chroma_port = free_port()
        log = self.root / "chroma.log"
        process = self._spawn(
            [
                executable,
                "run",
                "--path",
                str(self.root / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.chroma_port),
            ],
            log=log,
            env=os.environ.copy(),
        )
        _wait_http(
            f"http://127.0.0.1:{self.chroma_port}/api/v2/heartbeat", process=process, timeout=60, what="chroma", log=log
        )

    def _start_balancer(self, upstreams: list[str]) -> None:
        command = [sys.executable, "-m", "tests.deploy.balancer", "--port", "0"]
        for upstream in upstreams:
            command += ["--upstream", upstream]
        process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("BALANCER_READY"):
            raise RuntimeError(f"balancer did not start: {line!r}")
        self.balancer_port = int(json.loads(line.split(" ", 1)[1])["port"])

    def _spawn(self, command: list[str], *, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        handle = log.open("ab")
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self._processes.append(process)
        return process

    # ---- coach processes

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}/{WEBHOOK_PATH}"

    def env(self, name: str, **settings: str) -> dict[str, str]:
        """The environment compose gives a container: settings as COACH_* variables, secrets as their own."""
        assert self.emulator is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "TELEGRAM_"))}
        env.update(
            {
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False",
                "COACH_DATA_DIR": str(self.root / name),
                "COACH_STORAGE__DATABASE_URL": self.database_url,
                "COACH_VECTOR_STORE__MODE": "server",
                "COACH_VECTOR_STORE__HOST": "127.0.0.1",
                "COACH_VECTOR_STORE__PORT": str(self.chroma_port),
                "COACH_RETRIEVAL__REFRESH_SECONDS": str(self.refresh_seconds),
                "COACH_LOGGING__JSON_FORMAT": "true",
                "TELEGRAM_BOT_TOKEN": self.emulator.token,
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "COACH_TELEGRAM__BASE_URL": self.emulator.base_url,
                "COACH_TELEGRAM__MODE": "webhook",
                "COACH_TELEGRAM__WEBHOOK_URL": self.webhook_url,
                "COACH_TELEGRAM__WEBHOOK_LISTEN": "127.0.0.1",
            }
        )
        if self.dense_weight is not None:  # otherwise config.toml's default, as compose does
            env["COACH_RETRIEVAL__DENSE_WEIGHT"] = str(self.dense_weight)
        env.update(self.extra_env)
        env.update({f"COACH_{key.upper()}": value for key, value in settings.items()})
        return env

    def job(self, *args: str, name: str = "job", timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """A one-off `coach` run (prestart, ingest, publish); raises with its output when it fails."""
        done = subprocess.run(
            [str(BIN / "coach"), *args],
            cwd=REPO,
            env=self.env(name),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"coach {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def start_job(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        """A `coach` job running in the background (an ingest while the workers answer)."""
        return self._spawn([str(BIN / "coach"), *args], log=self.root / f"{name}.log", env=self.env(name))

    def start_worker(self, name: str, port: int) -> Worker:
        env = self.env(name, telegram__webhook_port=str(port))
        log = self.root / f"{name}.log"
        process = self._spawn([str(BIN / "coach"), "run"], log=log, env=env)
        worker = Worker(name, port, process, log)
        self.workers[name] = worker
        return worker

    def wait_ready(self, worker: Worker, timeout: float = 180) -> None:
        _wait_http(f"{worker.url}/readyz", process=worker.process, timeout=timeout, what=worker.name, log=worker.log)

    def kill(self, worker: Worker) -> None:
        """SIGKILL: the worker dies on the spot, as in a crash or an OOM kill."""
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)

    def terminate(self, worker: Worker, timeout: float = 30) -> int:
        """SIGTERM: what `docker compose stop` sends; the worker drains and exits."""
        worker.process.terminate()
        return worker.process.wait(timeout=timeout)

    def wait_current(self, timeout: float = 120) -> int:
        """Wait until every live worker answers from the knowledge base's current generation; returns it."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                generation = int(connection.execute(text("SELECT generation FROM knowledge_state")).scalar_one())
        finally:
            engine.dispose()
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            if not worker.alive():
                continue
            while True:
                checks = httpx.get(f"{worker.url}/readyz", timeout=10, trust_env=False).json().get("checks", [])
                details = {c["name"]: c["detail"] for c in checks}
                if details.get("knowledge_index") == f"generation {generation}":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{worker.name} still at {details.get('knowledge_index')}, want {generation}")
                time.sleep(0.2)
        return generation

    # ---- observations

    def balancer_log(self) -> list[dict[str, Any]]:
        response = httpx.get(f"http://127.0.0.1:{self.balancer_port}/_balancer/log", timeout=10, trust_env=False)
        return list(response.json()["log"])

    def deliveries(self) -> list[dict[str, Any]]:
        assert self.emulator is not None
        response = httpx.get(f"{self.emulator.client_url}/_emulator/deliveries", timeout=10, trust_env=False)
        return list(response.json()["result"])

    def fail_bot_api(self, method: str, count: int) -> None:
        """Make the next `count` calls of a Bot API method answer 502 (Telegram unreachable for a moment)."""
        assert self.emulator is not None
        response = httpx.post(
            f"{self.emulator.client_url}/_emulator/fail", json={"method": method, "count": count}, trust_env=False
        )
        response.raise_for_status()

    def worker_log_records(self, worker: Worker) -> list[dict[str, Any]]:
        records = []
        for line in worker.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        return records
