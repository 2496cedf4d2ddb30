"""The conversation core without any channel: real SQLite, a fake knowledge base (our own seam)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, Notice, TextReply
from bot.core.roles import Role
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.models import AnswerRating, AskedQuestion, ButtonAction, Learner
from tests.bot.conftest import FakeKnowledge

ALICE = ChannelUser("telegram", "1001", "Alice")
BOB = ChannelUser("telegram", "1002", "Bob")


def say(core: Conversation, user: ChannelUser, text: str, **kw) -> list:
    return list(core.handle(Inbound.from_text(user, text, **kw)).replies)


def press(core: Conversation, user: ChannelUser, token: str):
    return core.handle(Inbound(user, "button", button_token=token))


def register(core: Conversation, user: ChannelUser, employee_no: str = "A1001") -> None:
    say(core, user, "/start")
    say(core, user, "张三")
    say(core, user, employee_no)
    say(core, user, "西宁分公司")
    replies = say(core, user, "中级")
    assert "登记完成" in replies[0].text


def test_registration_step_by_step_then_questions_work(core):
    first = say(core, ALICE, "你好")
    assert first[0].text == texts.WELCOME_NEW
    assert say(core, ALICE, "王")[0].text == texts.BAD_NAME
    assert say(core, ALICE, "王小丽")[0].text == texts.ASK_EMPLOYEE_NO
    assert say(core, ALICE, "工号?")[0].text == texts.BAD_EMPLOYEE_NO
    assert say(core, ALICE, "b2002")[0].text == texts.ASK_REGION
    level_prompt = say(core, ALICE, "海东分公司")[0]
    assert [b.label for b in level_prompt.buttons[0]] == ["初级", "中级", "高级"]
    done = core.handle(Inbound(ALICE, "button", button_token=level_prompt.buttons[0][2].token)).replies[0]
    assert "王小丽(高级)" in done.text
    with core.uow.read() as session:
        learner = session.scalar(select(Learner))
        assert (learner.employee_no, learner.level, learner.role) == ("B2002", "高级", "learner")
    answer = say(core, ALICE, "晋级能跨级吗")[0]
    assert answer.title == texts.ANSWER_TITLE and "不得跨级" in answer.text


def test_a_stranger_sees_nothing_internal_whatever_they_send(core):
    for text in ["/help", "/ask 晋级流程", "/whoami", "/grant A1 管理员", "/unanswered", "/filter 案例"]:
        for reply in say(core, BOB, text):
            assert "晋级" not in reply.text or reply.text == texts.WELCOME_NEW
    assert core.handle(Inbound(BOB, "button", button_token="tok0000")).replies == (Notice(texts.NOT_REGISTERED),)
    assert core.knowledge.collections == []  # the knowledge base was never searched


def test_invite_code_registers_with_its_role(core):
    register(core, ALICE)
    core.provision(
        ChannelUser("console", "local"),
        name="管理员",
        employee_no="ADMIN1",
        region="省公司",
        level="高级",
        role=Role.ADMIN,
    )
    created = say(core, ChannelUser("console", "local"), "/invite 培训师 李老师 T0001 省公司 高级")[0].text
    code = created.split("\n")[0].split(":")[1]
    accepted = say(core, BOB, f"/start {code}")[0].text
    assert "李老师(培训师)" in accepted
    assert say(core, BOB, "/unanswered")[0].text == texts.UNANSWERED_NONE
    assert say(core, ChannelUser("telegram", "9"), code)[0].text == texts.BAD_INVITE  # used once only


def test_answer_is_logged_with_buttons_and_unanswered_questions_are_kept(core):
    register(core, ALICE)
    answer = say(core, ALICE, "晋级要走哪些流程")[0]
    labels = [b.label for row in answer.buttons for b in row]
    assert labels == ["📖 原文1", "📖 原文2", "📖 原文3", "更多结果", "👍 有用", "👎 没用"]
    assert "[1] 客户经理晋级流程 › 原则(流程手册)" in answer.text
    missing = say(core, ALICE, "食堂几点开饭")[0]
    assert missing.text.startswith(texts.NOT_FOUND) and not missing.buttons
    with core.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 2
    core.provision(
        ChannelUser("console", "t"), name="培训师", employee_no="T9", region="省", level="高级", role=Role.TRAINER
    )
    report = say(core, ChannelUser("console", "t"), "/unanswered")[0].text
    assert "食堂几点开饭" in report and "晋级要走哪些流程" not in report


def test_buttons_work_only_for_their_owner_reading_again_and_the_last_vote_counts(core):
    register(core, ALICE)
    register(core, BOB, employee_no="B1002")
    answer = say(core, ALICE, "晋级流程")[0]
    tokens = {b.label: b.token for row in answer.buttons for b in row}

    opened = press(core, ALICE, tokens["📖 原文2"]).replies[0]
    assert isinstance(opened, TextReply) and "各评估50%" in opened.text
    again = press(core, ALICE, tokens["📖 原文2"])
    assert not again.duplicate and again.replies == (opened,)  # reading buttons stay usable

    assert press(core, BOB, tokens["👍 有用"]).replies == (Notice(texts.BUTTON_EXPIRED),)  # not Bob's
    assert press(core, BOB, tokens["📖 原文2"]).replies == (Notice(texts.BUTTON_EXPIRED),)
    assert press(core, ALICE, "forged-token").replies == (Notice(texts.BUTTON_EXPIRED),)
    assert press(core, ALICE, tokens["👍 有用"]).replies == (Notice(texts.THANKS_UP),)
    assert press(core, ALICE, tokens["👎 没用"]).replies == (Notice(texts.THANKS_DOWN),)  # a change of mind
    with core.uow.read() as session:
        assert [r.rating for r in session.scalars(select(AnswerRating))] == [-1]  # one rating each, the last

    more = press(core, ALICE, tokens["更多结果"]).replies[0]
    assert "4. 客户经理晋级流程" in more.text and "人力资源部" in more.text


def test_filter_limits_the_collections_searched(core):
    register(core, ALICE)
    assert "流程手册" in say(core, ALICE, "/filter 流程")[0].text
    say(core, ALICE, "晋级")
    assert core.knowledge.collections[-1] == ["processes"]
    say(core, ALICE, "/filter 全部")
    say(core, ALICE, "晋级")
    assert core.knowledge.collections[-1] is None
    assert say(core, ALICE, "/filter 天气")[0].text == texts.FILTER_USAGE


def test_roles_are_checked_for_every_command(core):
    register(core, ALICE)
    assert say(core, ALICE, "/grant A1001 管理员")[0].text == texts.NOT_ALLOWED.format(command="grant")
    assert say(core, ALICE, "/unanswered")[0].text == texts.NOT_ALLOWED.format(command="unanswered")
    admin = ChannelUser("console", "local")
    core.provision(admin, name="管理员", employee_no="ADMIN1", region="省公司", level="高级", role=Role.ADMIN)
    assert "设为培训师" in say(core, admin, "/grant a1001 培训师")[0].text
    assert say(core, ALICE, "/unanswered")[0].text == texts.UNANSWERED_NONE
    assert say(core, admin, "/grant A1001 国王")[0].text == texts.GRANT_USAGE


def test_bad_input_gets_clear_replies(core):
    register(core, ALICE)
    assert say(core, ALICE, "/nonsense")[0].text == texts.UNKNOWN_COMMAND.format(command="nonsense")
    assert say(core, ALICE, "/ask")[0].text == texts.EMPTY_QUESTION
    assert say(core, ALICE, "晋" * 10_000)[0].text == texts.QUESTION_TOO_LONG.format(limit=500)
    assert say(core, ALICE, "   ")[0].text == texts.EMPTY_QUESTION
    sticker = core.handle(Inbound(ALICE, "unsupported"))
    assert sticker.replies == (TextReply(texts.UNSUPPORTED),)


def test_a_redelivered_update_changes_nothing_and_repeats_the_first_answer(core):
    register(core, ALICE)
    with core.uow.read() as session:
        buttons_before = session.scalar(select(func.count()).select_from(ButtonAction))
    first = core.handle(Inbound.from_text(ALICE, "晋级流程", update_id="555"))
    assert first.replies and not first.duplicate
    again = core.handle(Inbound.from_text(ALICE, "晋级流程", update_id="555"))
    assert again.duplicate
    assert again.replies == first.replies  # same text, same button tokens: nothing new was made
    with core.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 1
        assert session.scalar(select(func.count()).select_from(ButtonAction)) == buttons_before + sum(
            len(row) for reply in first.replies if isinstance(reply, TextReply) for row in reply.buttons
        )


def test_database_down_gives_a_clear_message_and_writes_nothing(core, tmp_path):
    register(core, ALICE)
    broken = Conversation(
        uow=UnitOfWork(create_database_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")),
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
    )
    assert broken.handle(Inbound.from_text(ALICE, "晋级流程")).replies == (TextReply(texts.DATABASE_DOWN),)


def test_registration_survives_a_restart(core, tmp_path):
    say(core, ALICE, "/start")
    say(core, ALICE, "赵六")
    restarted = Conversation(
        uow=core.uow, knowledge=FakeKnowledge(), learners=LearnerRepository(), interactions=InteractionRepository()
    )
    assert say(restarted, ALICE, "C3003")[0].text == texts.ASK_REGION


def test_a_question_typed_at_the_name_step_is_not_taken_as_a_name(core):
    say(core, BOB, "/help")
    assert say(core, BOB, "投诉受理后多久回访客户?")[0].text == texts.BAD_NAME
    assert say(core, BOB, "李四")[0].text == texts.ASK_EMPLOYEE_NO
