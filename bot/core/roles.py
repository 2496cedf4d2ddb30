"""Roles and what each may do. The programme's five roles map onto four:
考生 → learner; 培训师 → trainer; 上级主管 → supervisor; 绩效管理员, 地市管理员, 系统管理员 → admin."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_NAMES_ZH = {Role.LEARNER: "学员", Role.TRAINER: "培训师", Role.SUPERVISOR: "主管", Role.ADMIN: "管理员"}
ROLE_ALIASES = {
    **{r.value: r for r in Role},
    **{name: role for role, name in ROLE_NAMES_ZH.items()},
    "考生": Role.LEARNER,
    "上级主管": Role.SUPERVISOR,
    "绩效管理员": Role.ADMIN,
    "地市管理员": Role.ADMIN,
    "系统管理员": Role.ADMIN,
}

# What each role may do is the routing table in bot/core/routing.py (command → roles allowed → handler).

LEVELS = ("初级", "中级", "高级")


def parse_role(text: str) -> Role | None:
    return ROLE_ALIASES.get(text.strip().lower()) or ROLE_ALIASES.get(text.strip())
