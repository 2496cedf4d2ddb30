"""docker-compose.yml, deploy/nginx.conf and the Dockerfile agree with the code (no Docker engine here to run them):
every setting they pass is a real, valid setting; every command parses with the real CLI; the ports, paths and
versions line up between the files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from app.cli import _parser
from app.settings import Settings, load_settings
from bot.core.outbox import DrainPolicy

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
NGINX = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
EXAMPLE_ENV = dict(
    line.split("=", 1)
    for line in (REPO / "deploy" / "env.example").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
)
# The example's secrets are placeholders the settings refuse (tests/test_settings.py); an operator fills them in.
EXAMPLE_ENV |= {
    "TELEGRAM_BOT_TOKEN": "123456789:AAE-filled-in-by-the-operator_0123456",
    "TELEGRAM_WEBHOOK_SECRET": "Zq8_v2LrT0-kXw9aPd3sBn4",
    "WECOM_SECRET": "S0zjZTT7lnk48cC5y6PWVXpZJVKtGly2c1zJt5Fm1Rs",
    "WECOM_TOKEN": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "WECOM_ENCODING_AES_KEY": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
}
COACH_SERVICES = ("migrate", "ingest", "bot", "wecom")
SECRET_VARIABLES = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "WECOM_TOKEN",
    "WECOM_ENCODING_AES_KEY",
    "WECOM_SECRET",
}
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, from the example .env."""

    def one(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if "?" in match.group(0).split(name, 1)[1][:2]:
            pytest.fail(f"{name} is required by docker-compose.yml but missing from deploy/env.example")
        return rest or ""

    return VARIABLE.sub(one, value)


def service_env(name: str) -> dict[str, str]:
    return {k: interpolate(str(v), EXAMPLE_ENV) for k, v in COMPOSE["services"][name]["environment"].items()}


def _field_exists(model: type[BaseModel], path: list[str]) -> bool:
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    if len(path) == 1:
        return True
    annotation = field.annotation
    return isinstance(annotation, type) and issubclass(annotation, BaseModel) and _field_exists(annotation, path[1:])


@pytest.mark.parametrize("service", COACH_SERVICES)
def test_every_coach_variable_names_a_real_setting_and_the_values_validate(service: str, monkeypatch):
    env = service_env(service)
    for key in env:
        if key.startswith("COACH_"):
            path = key.removeprefix("COACH_").lower().split("__")
            assert _field_exists(Settings, path), f"{service}: {key} is not a setting"
        else:
            assert key in SECRET_VARIABLES, f"{service}: unknown variable {key}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.storage.database_url.startswith("postgresql+psycopg://coach:")
    assert settings.vector_store.mode == "server"
    assert settings.logging.json_format


@pytest.mark.parametrize("service", COACH_SERVICES)
def test_every_coach_command_parses_with_the_real_cli(service: str):
    command = COMPOSE["services"][service]["command"]
    if command[:2] == ["sh", "-c"]:
        lines = re.split(r"&&|\|\||;\s*do\s|;\s*done", command[2])
        invocations = [shlex.split(part.replace('"$$f"', "quiz.yaml")) for part in lines if "coach " in part]
        invocations = [argv[argv.index("coach") :] for argv in invocations]
    else:
        invocations = [command]
    assert invocations
    for argv in invocations:
        assert argv[0] == "coach"
        _parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown subcommand or option


def test_workers_run_in_webhook_mode_behind_the_proxy_on_matching_port_and_path(monkeypatch):
    env = service_env("bot")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    tg = settings.telegram
    assert tg.mode == "webhook" and tg.webhook_listen == "0.0.0.0"
    path = "/" + tg.webhook_url.split("://", 1)[1].split("/", 1)[1]
    assert f"location = {path} " in NGINX, f"nginx does not forward {path}"
    assert f"server bot:{tg.webhook_port} " in NGINX
    health = " ".join(COMPOSE["services"]["bot"]["healthcheck"]["test"])
    assert f"127.0.0.1:{tg.webhook_port}/readyz" in health
    grace = int(COMPOSE["services"]["bot"]["stop_grace_period"].rstrip("s"))
    assert grace > tg.drain_seconds, "compose would kill a worker before it drained"


def test_wecom_workers_answer_the_callback_path_nginx_forwards_on_their_port(monkeypatch):
    for key, value in service_env("wecom").items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    w = settings.wecom
    assert settings.app.channel == "wecom" and w.listen == "0.0.0.0" and w.corp_id and w.agent_id
    assert f"location = {w.callback_path} " in NGINX, f"nginx does not forward {w.callback_path}"
    assert f"server wecom:{w.port} " in NGINX
    health = " ".join(COMPOSE["services"]["wecom"]["healthcheck"]["test"])
    assert f"127.0.0.1:{w.port}/readyz" in health
    grace = int(COMPOSE["services"]["wecom"]["stop_grace_period"].rstrip("s"))
    assert grace > w.drain_seconds, "compose would kill a worker before it drained"
    block = NGINX.split(f"location = {w.callback_path} ", 1)[1].split("location ", 1)[0]
    timeout = re.search(r"proxy_read_timeout (\d+)s", block)
    assert timeout is not None and int(timeout.group(1)) < 5, "WeCom gives up on a callback after 5 s"
    profiles = {name: service.get("profiles") for name, service in COMPOSE["services"].items()}
    assert profiles["bot"] == ["telegram"] and profiles["wecom"] == ["wecom"]
    assert EXAMPLE_ENV["COMPOSE_PROFILES"] == "telegram"  # the default deployment is unchanged
    assert all(dep.get("required") is False for dep in COMPOSE["services"]["proxy"]["depends_on"].values())


def test_nginx_retries_the_next_worker_for_posts():
    assert re.search(r"proxy_next_upstream [^;]*\berror\b[^;]*\bhttp_503\b[^;]*\bnon_idempotent\b", NGINX)
    assert "X-Telegram-Bot-Api-Secret-Token" in NGINX


def test_workers_start_only_after_the_schema_is_migrated_and_chroma_is_up():
    services: dict[str, Any] = COMPOSE["services"]
    for name in ("bot", "wecom", "ingest"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["chroma"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["coach", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_chroma_server_image_matches_the_pinned_client():
    pinned = re.search(r"^chromadb==(\S+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert pinned is not None
    assert COMPOSE["services"]["chroma"]["image"] == f"chromadb/chroma:{pinned.group(1)}"


def test_the_image_copies_every_package_the_program_imports():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    packages = re.findall(r'"(\w+)\*"', (REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert packages
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"the Dockerfile does not copy {package}/"


def test_the_workers_together_stay_under_telegrams_message_rate(monkeypatch):
    for key, value in service_env("bot").items():
        monkeypatch.setenv(key, value)
    per_worker = load_settings().telegram.max_messages_per_second
    workers = int(interpolate(str(COMPOSE["services"]["bot"]["deploy"]["replicas"]), EXAMPLE_ENV))
    assert 0 < per_worker * workers <= 30, "Telegram allows a bot about 30 messages per second in all"


def test_the_reminder_push_fits_in_what_the_workers_may_send_and_a_batch_in_its_lease(monkeypatch):
    """The outbox's rate is for all workers together; each worker's Telegram limiter caps what it sends, answers
    included. A batch a worker claimed must go out (at its limiter's pace) before the lease lets another take it."""
    for key, value in service_env("bot").items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    workers = int(interpolate(str(COMPOSE["services"]["bot"]["deploy"]["replicas"]), EXAMPLE_ENV))
    per_worker = settings.telegram.max_messages_per_second
    r = settings.reminders
    assert r.enabled and "telegram" in r.channels
    assert r.messages_per_second <= per_worker * workers <= 30
    busiest = r.messages_per_second + DrainPolicy(messages_per_second=r.messages_per_second).burst
    assert busiest <= 30, "the outbox's busiest second (its rate plus what the shared bucket holds) over Telegram's"
    assert r.batch_size / per_worker < r.lease_seconds, "a worker's batch would outlive its lease"
    assert r.lease_seconds > settings.telegram.drain_seconds, "a stopping worker's claims outlive its drain"
