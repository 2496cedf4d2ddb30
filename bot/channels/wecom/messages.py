"""WeCom's callback XML: the outer envelope (ToUserName, AgentID, Encrypt) and the decrypted message or event,
turned into the core's `Inbound` with the identity its claim is keyed on.

Claims: a message by its MsgId; an event (a card button click) by sender + CreateTime + event + key, as WeCom's
retries of one callback repeat all of those and nothing else does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bot.channels.wecom.rendering import token_from_key
from bot.core.messages import ChannelUser, Inbound, InboundFile

CHANNEL = "wecom"
CARD_EVENTS = {"template_card_event"}  # a button on one of our template cards was pressed
START_EVENTS = {"subscribe"}  # someone was given the app: like /start (opening it, enter_agent, is not)


class BadCallback(ValueError):
    """The body is not WeCom callback XML (or carries a DTD/entity, which WeCom never sends)."""


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The top-level fields of a callback XML document (no DTDs or entities: refused before parsing)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise BadCallback("DTDs and entities are not accepted")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise BadCallback(f"not XML ({exc})") from None
    if root.tag != "xml":
        raise BadCallback("the root element is not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


@dataclass(frozen=True)
class WeComMessage:
    """One decrypted callback: a message (text, file, image, …) or an event."""

    corp_id: str
    user_id: str
    create_time: str
    msg_type: str
    agent_id: str = ""
    msg_id: str = ""
    content: str = ""
    event: str = ""
    event_key: str = ""
    media_id: str = ""
    file_name: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> WeComMessage:
        if not fields.get("FromUserName") or not fields.get("MsgType"):
            raise BadCallback("no FromUserName or MsgType")
        return cls(
            corp_id=fields.get("ToUserName", ""),
            user_id=fields["FromUserName"],
            create_time=fields.get("CreateTime", ""),
            msg_type=fields["MsgType"],
            agent_id=fields.get("AgentID", ""),
            msg_id=fields.get("MsgId", ""),
            content=fields.get("Content", ""),
            event=fields.get("Event", ""),
            event_key=fields.get("EventKey", ""),
            media_id=fields.get("MediaId", ""),
            file_name=fields.get("FileName", "") or fields.get("Title", ""),
        )

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def claim_id(self) -> str:
        """What WeCom's retries of this callback share: the MsgId, or for an event its sender, time and key."""
        if not self.is_event and self.msg_id:
            return self.msg_id
        basis = "|".join(["event", self.user_id, self.create_time, self.event, self.event_key])
        return "ev-" + hashlib.sha256(basis.encode()).hexdigest()[:40]

    @property
    def digest(self) -> str:
        basis = "|".join([self.corp_id, self.user_id, self.msg_type, self.claim_id, self.create_time])
        return hashlib.sha256(basis.encode()).hexdigest()[:32]

    @property
    def wants_reply(self) -> bool:
        """Events other than card clicks and app opens (location reports, menu views…) are not conversation."""
        return not self.is_event or self.event in CARD_EVENTS or self.event in START_EVENTS

    def to_inbound(self, *, bot_id: str, file: InboundFile | None = None) -> Inbound:
        """The core's view of it. A file arrives as its name only unless `file` (downloaded) is given."""
        user = ChannelUser(CHANNEL, self.user_id)
        if self.is_event and self.event in CARD_EVENTS:
            inbound = Inbound(user, "button", button_token=token_from_key(self.event_key))
        elif self.is_event:  # the app was given to someone
            inbound = Inbound(user, "command", text="/start", command="start")
        elif self.msg_type == "text":
            inbound = Inbound.from_text(user, self.content)
        elif self.msg_type == "file":
            inbound = Inbound(user, "file", file=file or InboundFile(self.file_name or "file", b""))
        else:
            inbound = Inbound(user, "unsupported")
        return dataclasses.replace(
            inbound, update_id=self.claim_id, bot_id=bot_id, chat_id=self.user_id, digest=self.digest
        )
