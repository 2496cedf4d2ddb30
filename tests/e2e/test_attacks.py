"""Attacks from issue 11 that need the real process: `coach run` (long polling, the default) against the Bot API
emulator, killed with SIGKILL while it handles an update."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import texts
from tests.e2e.harness import BotApiEmulator, SimUser

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
COACH = Path(sys.executable).parent / "coach"
MANAGER = SimUser(id=30003, first_name="王小丽", username="wangxl")


class CoachProcess:
    """`coach run` in its own process, configured only through the environment, its output in a log file."""

    def __init__(self, emulator: BotApiEmulator, data_dir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "TELEGRAM_"))}
        self.env.update(
            {
                "COACH_DATA_DIR": str(data_dir),
                "COACH_VECTOR_STORE__MODE": "off",
                "TELEGRAM_BOT_TOKEN": emulator.token,
                "COACH_TELEGRAM__BASE_URL": emulator.base_url,
                "HF_HUB_OFFLINE": "1",
            }
        )
        self.log = data_dir.parent / "coach.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([str(COACH), "run"], cwd=REPO, env=self.env, stdout=out, stderr=out)

    def kill(self) -> None:
        """SIGKILL: the process dies on the spot, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:]) if self.log.exists() else ""


@pytest.fixture
def coach(bot_api_emulator: BotApiEmulator, tmp_path: Path) -> Iterator[CoachProcess]:
    process = CoachProcess(bot_api_emulator, tmp_path / "data")
    try:
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def database_held(path: Path) -> Iterator[None]:
    """Another writer holds SQLite's write lock: the bot's transaction waits (busy timeout) inside the update."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def test_sigkill_while_handling_an_update_in_polling_mode_loses_nothing(
    bot_api_emulator: BotApiEmulator, coach: CoachProcess, tmp_path: Path
) -> None:
    """PTB's own polling acknowledges an update when it fetches the next batch, before the update is handled:
    a process killed mid-update lost it (the learner's message vanished without a reply). An update must be
    acknowledged only after its transaction committed, so the restarted process gets it again."""
    emulator = bot_api_emulator
    coach.start()
    emulator.send_text("/start", user=MANAGER)
    try:
        [welcome] = emulator.wait_for_replies(1, timeout=90, user=MANAGER)
    except (AssertionError, ValueError) as exc:
        exc.add_note(coach.tail())
        raise
    assert welcome.text == texts.WELCOME_NEW

    with database_held(tmp_path / "data" / "coach.sqlite3"):
        since = max((c.seq for c in emulator.calls()), default=0)
        emulator.send_text("王小丽", user=MANAGER)  # the name step: a write the held lock makes wait
        emulator.wait_for_call("sendChatAction", timeout=30, since=since)  # the bot is inside the update
        coach.kill()
    assert emulator.replies(user=MANAGER) == []  # it died before answering

    coach.start()
    try:
        replies = emulator.wait_for_replies(1, timeout=90, user=MANAGER)
    except AssertionError as exc:
        exc.add_note(coach.tail())
        raise
    assert [r.text for r in replies] == [texts.ASK_EMPLOYEE_NO]


def register(emulator: BotApiEmulator, user: SimUser, name: str, employee_no: str) -> None:
    for text, expected in (("/start", texts.WELCOME_NEW), (name, texts.ASK_EMPLOYEE_NO), (employee_no, None)):
        emulator.send_text(text, user=user)
        [reply] = emulator.wait_for_replies(1, timeout=90, user=user)
        assert expected is None or reply.text == expected, reply.text
    emulator.send_text("西宁分公司", user=user)
    [level_prompt] = emulator.wait_for_replies(1, timeout=30, user=user)
    assert level_prompt.text == texts.ASK_LEVEL
    emulator.press_button(text="中级", message=level_prompt, user=user)
    [done] = emulator.wait_for_replies(1, timeout=30, user=user)
    assert "登记完成" in (done.text or ""), done.text


def test_after_the_bot_api_restarts_its_update_ids_nobody_gets_another_persons_replies(
    bot_api_emulator: BotApiEmulator, coach: CoachProcess
) -> None:
    """A reset (self-hosted) Bot API server numbers updates from the start again over the same database:
    a learner's updates then carried the ids of an admin's, and got the admin's stored replies (name, employee
    number, role) or were dropped as re-deliveries."""
    first = bot_api_emulator
    coach.start()
    admin, learner = SimUser(id=40004, first_name="张主任"), SimUser(id=50005, first_name="李雷")
    register(first, admin, "张主任", "A4004")
    first.send_text("/whoami", user=admin)
    [whoami] = first.wait_for_replies(1, timeout=30, user=admin)
    assert "A4004" in (whoami.text or "")
    port = first.port
    coach.stop()
    first.stop()

    with BotApiEmulator(port=port, install=False) as restarted:  # same address and token, ids from the start
        coach.start()  # the bot is redeployed against the reset server, over the same database
        register(restarted, learner, "李雷", "B5005")  # the same update ids the admin's registration had
        restarted.send_text("/whoami", user=learner)
        [own] = restarted.wait_for_replies(1, timeout=30, user=learner)
        assert "B5005" in (own.text or "") and "A4004" not in (own.text or "")
        sent = [c for c in restarted.calls("sendMessage")]
        assert {str(c.params["chat_id"]) for c in sent} == {str(learner.chat_id)}


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        pytest.param(None, "needs TELEGRAM_WEBHOOK_SECRET", id="no secret"),
        pytest.param("replace-with-a-long-random-string", "placeholder", id="env.example placeholder"),
        pytest.param("short_Secret1", "too short", id="too short"),
    ],
)
def test_a_webhook_worker_without_a_real_secret_refuses_to_start(
    bot_api_emulator: BotApiEmulator, tmp_path: Path, secret: str | None, why: str
) -> None:
    """Without a secret a webhook worker took any POST as an update: a forged one "from" the admin ran /grant."""
    process = CoachProcess(bot_api_emulator, tmp_path / "data")
    process.env.update(
        {"COACH_TELEGRAM__MODE": "webhook", "COACH_TELEGRAM__WEBHOOK_URL": "https://coach.example.com/tg/hook"}
    )
    if secret is not None:
        process.env["TELEGRAM_WEBHOOK_SECRET"] = secret
    done = subprocess.run(
        [str(COACH), "run"], cwd=REPO, env=process.env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "TELEGRAM_WEBHOOK_SECRET" in output and why in output, output[-2000:]
    if secret is not None:
        assert secret not in output  # the refusal never repeats the secret
    assert bot_api_emulator.calls() == []  # nothing was registered, nothing listened
