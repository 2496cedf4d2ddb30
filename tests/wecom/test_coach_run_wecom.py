"""`coach run` as a process, configured only by environment variables as compose configures a wecom worker: the
composition root picks the WeCom channel, the worker answers the callback URL's verification and a message, and
SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from bot.channels.wecom.crypto import signature
from bot.core import texts
from tests.wecom.emulator import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, WeComEmulator

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_coach_run_is_a_wecom_worker_when_the_environment_says_so(tmp_path: Path):
    emu = WeComEmulator()
    base_url = emu.start()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN" and not k.startswith(("COACH_", "WECOM_"))}
    env.update(
        {
            "COACH_DATA_DIR": str(tmp_path / "data"),
            "COACH_VECTOR_STORE__MODE": "off",
            "COACH_RETRIEVAL__DENSE_WEIGHT": "0",
            "COACH_REMINDERS__ENABLED": "false",
            "COACH_WECOM__CORP_ID": CORP_ID,
            "COACH_WECOM__AGENT_ID": str(AGENT_ID),
            "COACH_WECOM__BASE_URL": base_url,
            "COACH_WECOM__PORT": str(port),
            "WECOM_TOKEN": TOKEN,
            "WECOM_ENCODING_AES_KEY": AES_KEY,
            "WECOM_SECRET": SECRET,
            "HF_HUB_OFFLINE": "1",
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys\nfrom app.cli import main\nsys.exit(main(['run']))",
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    emu.worker_url = f"{url}/wecom/callback"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.returncode is None and time.monotonic() < deadline, "the worker did not get ready"
                await asyncio.sleep(0.2)
            echo = "8231904456"
            encrypted = emu.crypto.encrypt(echo)
            ts, nonce = str(int(time.time())), "1372623149"
            verify = await http.get(
                emu.worker_url,
                params={"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce,
                        "echostr": encrypted},
            )  # fmt: skip
            assert (verify.status_code, verify.text) == (200, echo)
            query, body = emu.envelope(emu.text_fields("wangxl", "/start"))
            answered = await emu.post(query, body)
            assert answered.text == "success"
            for _ in range(200):
                if emu.to("wangxl"):
                    break
                await asyncio.sleep(0.05)
            assert [s.text for s in emu.to("wangxl")] == [texts.WELCOME_NEW]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        output = (await process.stdout.read()).decode(errors="replace") if process.stdout else ""
        await emu.stop()
    assert SECRET not in output and TOKEN not in output  # neither the secret nor the token reaches the logs
    assert "access_token=" not in output and emu.tokens and not any(token in output for token in emu.tokens)
