"""Typed settings: config.toml, overridden by COACH_* environment variables; secrets only from the environment.

Nothing here is read at import time: `load_settings()` is called once, by the composition root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from app.settings_sources import SourceError, settings_input

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config.toml"
COLLECTIONS = ("cases", "courses", "processes", "general")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSettings(_Section):
    time_zone: str = "Asia/Shanghai"  # where the programme's half-year cycles are cut (IANA name)
    # which chat `coach run` opens; "auto": Telegram with TELEGRAM_BOT_TOKEN, else WeCom with WECOM_SECRET, else console
    channel: Literal["auto", "console", "telegram", "wecom"] = "auto"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"不认识的时区「{value}」,请写 IANA 名称,如 Asia/Shanghai") from None
        return value


class StorageSettings(_Section):
    database_url: str = ""  # empty: SQLite file in the data dir

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("只支持 sqlite:/// 或 postgresql+psycopg:// 开头的数据库地址")
        return value


class EmbeddingSettings(_Section):
    model: str = "builtin:multilingual-e5-small"
    batch_size: int = Field(default=32, ge=1, le=1024)
    device: Literal["cpu", "cuda"] = "cpu"


class VectorStoreSettings(_Section):
    mode: Literal["embedded", "server", "off"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class RetrievalSettings(_Section):
    default_k: int = Field(default=5, ge=1, le=50)
    candidates: int = Field(default=50, ge=5, le=1000)
    bigram_weight: float = Field(default=0.5, ge=0.0, le=5.0)
    dense_weight: float = Field(default=0.2, ge=0.0, le=1.0)
    min_coverage: float = Field(default=0.2, ge=0.0, le=1.0)
    chunk_chars: int = Field(default=300, ge=80, le=2000)
    refresh_seconds: float = Field(default=10.0, ge=0.0, le=3600.0)


class AnswerSettings(_Section):
    max_chars: int = Field(default=600, ge=100, le=4000)
    semantic_weight: float = Field(default=0.5, ge=0.0, le=5.0)  # e5 unit similarity in replies (dense side on)
    llm_enabled: bool = False
    llm_base_url: str = ""
    llm_model: str = ""
    llm_timeout_seconds: float = Field(default=15.0, gt=0, le=120)


class IngestSettings(_Section):
    max_file_mb: int = Field(default=50, ge=1, le=2048)
    batch_passages: int = Field(default=200, ge=1, le=100_000)


class TelegramSettings(_Section):
    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    max_messages_per_second: float = Field(default=30.0, ge=0.0, le=1000.0)
    webhook_register: bool = True
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    drain_seconds: float = Field(default=20.0, ge=0.0, le=600.0)
    # Only for a local test server: a webhook worker without TELEGRAM_WEBHOOK_SECRET accepts any POST as an update.
    allow_webhook_without_secret: bool = False


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class RemindersSettings(_Section):
    enabled: bool = True
    quiet_start: str = "22:00"  # nothing is sent from here …
    quiet_end: str = "08:00"  # … to here, local time ([app] time_zone); may run across midnight
    review_time: str = "09:00"
    digest_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    digest_time: str = "09:00"
    messages_per_second: float = Field(default=25.0, gt=0.0, le=1000.0)
    batch_size: int = Field(default=20, ge=1, le=1000)
    lease_seconds: float = Field(default=60.0, ge=5.0, le=3600.0)
    tick_seconds: float = Field(default=0.2, ge=0.05, le=60.0)
    plan_every_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    max_attempts: int = Field(default=5, ge=1, le=50)
    channels: tuple[str, ...] = ("telegram", "wecom", "console")

    @field_validator("quiet_start", "quiet_end", "review_time", "digest_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"时间「{value}」要写成 HH:MM,例如 08:30")
        return value


class WeComSettings(_Section):
    """A WeCom (企业微信) self-built app; its Token, EncodingAESKey and Secret come only from the environment."""

    corp_id: str = ""  # 企业ID (My Company → Company Information)
    agent_id: int = Field(default=0, ge=0)  # the app's AgentId
    base_url: str = "https://qyapi.weixin.qq.com"  # a private deployment's API server, or a test emulator
    listen: str = "127.0.0.1"
    port: int = Field(default=8089, ge=0, le=65535)
    callback_path: str = "/wecom/callback"
    markdown: bool = False  # titles as markdown: shown by the WeCom client, not by WeChat's 企业微信 plug-in
    max_clock_skew_seconds: int = Field(default=300, ge=5, le=3600)  # older (or later) callbacks are refused
    drain_seconds: float = Field(default=20.0, ge=0.0, le=600.0)
    request_timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)


class RegistrationSettings(_Section):
    invite_valid_days: int = Field(default=14, ge=1, le=365)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = False


class Settings(BaseModel):
    """All settings. Unknown keys anywhere are errors that name the key. `load_settings` reads them
    (`app.settings_sources`: overrides, then COACH_* variables with `__` between section and key, then the TOML)."""

    # validate_default and validate_by_name: as pydantic-settings had it (a secret is also read under its field name)
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, validate_by_name=True)

    data_dir: Path = Path("data")
    app: AppSettings = AppSettings()
    storage: StorageSettings = StorageSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ingest: IngestSettings = IngestSettings()
    telegram: TelegramSettings = TelegramSettings()
    registration: RegistrationSettings = RegistrationSettings()
    wecom: WeComSettings = WeComSettings()
    reminders: RemindersSettings = RemindersSettings()
    logging: LoggingSettings = LoggingSettings()

    # Secrets: environment only (TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, COACH_LLM_API_KEY); never in
    # config.toml, never logged.
    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="COACH_LLM_API_KEY")
    wecom_token: SecretStr | None = Field(default=None, validation_alias="WECOM_TOKEN")
    wecom_encoding_aes_key: SecretStr | None = Field(default=None, validation_alias="WECOM_ENCODING_AES_KEY")
    wecom_secret: SecretStr | None = Field(default=None, validation_alias="WECOM_SECRET")

    @field_validator("telegram_bot_token")
    @classmethod
    def _no_placeholder_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _looks_like_placeholder(value.get_secret_value()):
            raise ValueError("TELEGRAM_BOT_TOKEN is still a placeholder: set the token BotFather gave you")
        return value

    @field_validator("wecom_token", "wecom_encoding_aes_key", "wecom_secret")
    @classmethod
    def _no_placeholder_wecom_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _looks_like_placeholder(value.get_secret_value()):
            raise ValueError("is still a placeholder (deploy/env.example): set the value from the WeCom admin console")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _strong_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        problem = webhook_secret_problem(value.get_secret_value())
        if problem:
            raise ValueError(f"TELEGRAM_WEBHOOK_SECRET {problem}; {WEBHOOK_SECRET_HINT}")
        return value

    @property
    def database_url(self) -> str:
        return self.storage.database_url or f"sqlite:///{self.data_dir / 'coach.sqlite3'}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


MIN_WEBHOOK_SECRET_CHARS = 16
WEBHOOK_SECRET_HINT = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_WEBHOOK_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
_PLACEHOLDER_WORDS = (
    "replace",
    "change-me",
    "changeme",
    "change_me",
    "changethis",
    "placeholder",
    "example",
    "your-",
    "your_",
    "xxxx",
)


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


def webhook_secret_problem(secret: str) -> str:
    """Why this webhook secret must not be used ("" when it may): Telegram's charset, length, placeholders.

    The message never repeats the secret."""
    if not _WEBHOOK_SECRET_CHARS.match(secret):
        return "may only contain A–Z, a–z, 0–9, '_' and '-' (at most 256 characters)"
    if _looks_like_placeholder(secret):
        return "is still a placeholder (e.g. the one in deploy/env.example)"
    if len(secret) < MIN_WEBHOOK_SECRET_CHARS:
        return f"is too short: at least {MIN_WEBHOOK_SECRET_CHARS} characters"
    if len(set(secret)) < 8:
        return "repeats too few characters to be random"
    return ""


class SettingsError(Exception):
    """The configuration is invalid; the message names every bad key."""


def load_settings(*, config_path: Path | None = None, **overrides: Any) -> Settings:
    """Read config.toml (or `config_path`), apply environment overrides, validate everything."""
    if config_path is None and os.environ.get("COACH_CONFIG"):
        config_path = Path(os.environ["COACH_CONFIG"])
    if config_path is not None and not config_path.is_file():
        raise SettingsError(f"配置文件不存在: {config_path}")
    try:
        values = settings_input(Settings, toml_path=config_path or DEFAULT_CONFIG_PATH, overrides=overrides)
        settings = Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"配置有误 — {problems}") from None
    except SourceError as exc:
        raise SettingsError(f"配置有误 — {exc}") from None
    return settings
