"""Buttons carry only a random token; what they do is stored server-side, bound to one learner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core.messages import Button
from storage.interaction_repository import InteractionRepository

ButtonMaker = Callable[[str, str, dict[str, Any]], Button]


def button_maker(
    interactions: InteractionRepository,
    new_token: Callable[[], str],
    session: Session,
    learner_id: int,
    now: datetime,
) -> ButtonMaker:
    """A function making buttons for this learner inside this transaction."""

    def make(label: str, action: str, payload: dict[str, Any]) -> Button:
        token = new_token()
        interactions.add_action(session, token=token, learner_id=learner_id, action=action, payload=payload, now=now)
        return Button(label, token)

    return make
