"""A minimal console chat over the knowledge base (the full conversation core arrives with the chat issue)."""

from __future__ import annotations

import sys

from app.composition import Services

WELCOME = "随身教练 PocketCoach(控制台)。输入问题回车查询,输入 /quit 退出。"


def run_console_chat(services: Services) -> int:
    print(WELCOME)
    while True:
        try:
            line = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line in {"/quit", "/exit", "/q"}:
            return 0
        if not line:
            continue
        print(services.ask(line[:500]).render_plain())
        sys.stdout.flush()
