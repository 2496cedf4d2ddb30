"""The new-user path end to end (issue 12): the bundled content loaded as `make run` loads it, then `coach run` in
console mode as a real process — a question, a button, a quiz answered by number, /record with its radar saved
under the data folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
COLLECTIONS = ("cases", "courses", "processes")


def _coach(args: list[str], env: dict[str, str], *, stdin: str | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom app.cli import main\nsys.exit(main(sys.argv[1:]))", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


@pytest.fixture(scope="module")
def data_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("e2e") / "data"
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN" and not k.startswith("COACH_")}
    env.update({"COACH_DATA_DIR": str(data), "COACH_VECTOR_STORE__MODE": "off", "COACH_RETRIEVAL__DENSE_WEIGHT": "0"})
    for collection in COLLECTIONS:
        _coach(["ingest", str(CONTENT / "knowledge" / collection), "--collection", collection], env)
    _coach(["quiz", "publish", str(CONTENT / "quizzes" / "negotiation_intermediate.yaml")], env)
    return env


def test_a_new_user_asks_takes_a_quiz_and_sees_the_record(data_env: dict[str, str]):
    typed = ["客户压价怎么谈判", "1", "/quiz", "1"]
    first = _coach(["run"], data_env, stdin="\n".join([*typed, "/quit", ""]))
    assert "【答案】" in first and "来源:" in first
    assert "【原文 [1]" in first  # "1" pressed 📖 原文1
    assert "可参加的测验(中级)" in first and "[1] 销售推动力·中级谈判情境练习\n" in first
    assert "【第 1/" in first

    # Answer every question by number (A each time, 提交 for a multiple choice) until the result comes.
    transcript = first
    for _ in range(30):
        if "测验结束" in transcript:
            break
        last_question = transcript.rsplit("【第 ", 1)[1]
        keys = re.findall(r"\[(\d+)\] (\S+)", last_question)
        presses = [next(n for n, label in keys if label == "A")]
        presses += [n for n, label in keys if label == "提交"]
        transcript = _coach(["run"], data_env, stdin="\n".join(["/quiz", *presses, "/quit", ""]))
    assert "测验结束:中级谈判情境练习" in transcript, transcript[-1500:]

    record = _coach(["run"], data_env, stdin="/record\n/quit\n")
    assert "的认证记录" in record
    saved = re.search(r"\[图片已保存:(.+?\.png)\]", record)
    assert saved is not None, record[-1500:]
    path = Path(saved.group(1))
    assert path.is_file() and path.read_bytes().startswith(b"\x89PNG")
    assert Path(data_env["COACH_DATA_DIR"]).resolve() in path.parents  # under the data folder
