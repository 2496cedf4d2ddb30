"""WeCom callback handling of PocketCoach: how soon a worker answers WeCom's callback (WeCom re-sends after 5 s)
and how soon the replies are out, through the real worker against the local WeCom emulator of tests/wecom.
Prints numbers; never asserts.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/wecom_bench.py [--callbacks 60] [--warmup 10] [--json out.json]

One process: the emulator's API (tornado) and one WeCom worker (`run_wecom_worker` over `Services` on a temporary
SQLite, lexical search over content/knowledge/, learners bound beforehand). The simulated user POSTs a callback
encrypted as WeCom does and waits until the worker holds nothing (its replies are sent) before the next one, so
every number is one callback alone. Per kind — /help, a question, 👍 on the last answer (a card button event):
  server_ack  in the worker, the request's arrival → `success` written (`WeComApp.ack_seconds`): the checks, the
            decryption, the core's transaction with the claim — what WeCom's 5 s limit is measured against
  ack       POST → the client has `success` (adds the HTTP round trip, and this one process's event loop and GIL
            shared with the delivery, the emulator and the reminder loop)
  done      POST → the last reply accepted by the emulator's message/send (rendering, token, the sends)
Baselines in the same run: `healthz` (a GET of /healthz: the HTTP round trip alone), `crypto` (verify + decrypt of
one callback in process) and `core_help` (the core's Conversation.handle of a /help with its claim, called directly
in a thread: what any channel pays). Ratios: each kind's ack p50 over the healthz p50, and the /help server_ack
over the core's /help (what the WeCom channel adds before answering). `--no-reminders` turns the worker's reminder
loop (issue 15) off, to see what it costs the callbacks on one SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.composition import Services
from app.settings import load_settings
from bot.core import texts
from bot.core.messages import ChannelUser, Inbound
from bot.core.roles import Role
from tests.wecom.conftest import start_wecom_worker
from tests.wecom.emulator import WeComEmulator

CONTENT = Path(__file__).resolve().parent.parent / "content" / "knowledge"
QUESTIONS = ["投诉处理流程是什么?", "客户经理晋升需要什么条件?", "谈判中如何让步?", "KPI 怎么计算?"]
USER = "wangxl"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": _pct(values, 0.5),
        "p95_ms": _pct(values, 0.95),
        "mean_ms": statistics.fmean(values),
    }


async def run(callbacks: int, warmup: int, *, reminders: bool = True) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="wecom-bench-"))
    settings = load_settings()
    settings = settings.model_copy(
        update={
            "data_dir": tmp,
            "vector_store": settings.vector_store.model_copy(update={"mode": "off"}),
            "reminders": settings.reminders.model_copy(update={"enabled": reminders}),
        }
    )
    services = Services(settings)
    for collection in ("cases", "courses", "processes"):
        if (CONTENT / collection).is_dir():
            services.ingest_pipeline().run([CONTENT / collection], collection=collection)
    services.conversation.provision(
        ChannelUser("wecom", USER), name="王小丽", employee_no="A1001", region="西宁", level="中级", role=Role.LEARNER
    )
    emu = WeComEmulator()
    worker = await start_wecom_worker(services, emu)
    times: dict[str, dict[str, list[float]]] = {
        k: {"server_ack": [], "ack": [], "done": []} for k in ("help", "question", "button")
    }
    baseline: dict[str, list[float]] = {"healthz": [], "crypto": [], "core_help": []}
    core_user = ChannelUser("wecom", USER)
    last_up = ""

    async def one(kind: str, fields: dict[str, object], measured: bool) -> None:
        nonlocal last_up
        before = len(emu.sent)
        query, body = emu.envelope(fields)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        response = await emu.post(query, body)
        t_ack = time.perf_counter()
        await worker.settle()
        t_done = time.perf_counter()
        assert response.text == "success", response.text
        for sent in emu.sent[before:]:
            last_up = sent.buttons.get(texts.BUTTON_UP, last_up)
        if measured:
            times[kind]["server_ack"].append(1000 * worker.app.ack_seconds[-1])
            times[kind]["ack"].append(1000 * (t_ack - t0))
            times[kind]["done"].append(1000 * (t_done - t0))
            t1 = time.perf_counter()
            await worker.http.get(f"{worker.base}/healthz")
            baseline["healthz"].append(1000 * (time.perf_counter() - t1))
            encrypted = body.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
            t2 = time.perf_counter()
            worker.app.crypto.open(
                query["msg_signature"], timestamp=query["timestamp"], nonce=query["nonce"], encrypted=encrypted
            )
            baseline["crypto"].append(1000 * (time.perf_counter() - t2))
            if kind == "help":
                inbound = Inbound.from_text(core_user, "/help", update_id=f"bench-{len(baseline['core_help'])}")
                inbound = dataclasses.replace(inbound, bot_id="bench", chat_id=USER, digest=inbound.update_id)
                t3 = time.perf_counter()
                await asyncio.to_thread(services.conversation.handle, inbound)
                baseline["core_help"].append(1000 * (time.perf_counter() - t3))

    try:
        for i in range(warmup + callbacks):
            measured = i >= warmup
            await one("help", emu.text_fields(USER, "/help"), measured)
            await one("question", emu.text_fields(USER, QUESTIONS[i % len(QUESTIONS)]), measured)
            if last_up:
                await one("button", emu.click_fields(USER, last_up), measured)
    finally:
        worker.stop.set()
        await asyncio.wait_for(worker.task, 30)
        await worker.http.aclose()
        await emu.stop()
    floor = _summary(baseline["healthz"])["p50_ms"]
    report: dict[str, object] = {
        "load_average": os.getloadavg(),
        "callbacks_per_kind": callbacks,
        "baseline": {k: _summary(v) for k, v in baseline.items()},
        "kinds": {k: {part: _summary(v) for part, v in parts.items() if v} for k, parts in times.items()},
        "ack_p50_over_healthz_p50": {k: _summary(p["ack"])["p50_ms"] / floor for k, p in times.items() if p["ack"]},
        "help_server_ack_p50_over_core_help_p50": _summary(times["help"]["server_ack"])["p50_ms"]
        / _summary(baseline["core_help"])["p50_ms"],
        "reminders": reminders,
        "gettoken_calls": emu.fetches(),
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-reminders", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = asyncio.run(run(args.callbacks, args.warmup, reminders=not args.no_reminders))
    print(
        f"load average {report['load_average']}; reminders {report['reminders']}; gettoken calls: "
        f"{report['gettoken_calls']}"
    )
    for name, s in report["baseline"].items():  # type: ignore[attr-defined]
        print(f"  baseline {name:9s} p50 {s['p50_ms']:7.2f} ms  p95 {s['p95_ms']:7.2f} ms")
    for kind, parts in report["kinds"].items():  # type: ignore[attr-defined]
        for part, s in parts.items():
            print(f"  {kind:9s} {part:10s}p50 {s['p50_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  (n={s['n']})")
    for kind, ratio in report["ack_p50_over_healthz_p50"].items():  # type: ignore[attr-defined]
        print(f"  {kind:9s} ack p50 / healthz p50 = {ratio:.1f}×")
    print(f"  help server_ack p50 / core /help p50 = {report['help_server_ack_p50_over_core_help_p50']:.2f}×")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
