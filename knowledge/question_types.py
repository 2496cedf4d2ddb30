"""What a question asks for, read from its wording. Pure functions.

A learner who asks 「多少分算等级2」 wants a number, 「哪几步」 a list, 「什么是EDI」 a definition, 「怎么让步」
advice; the reply picks a different span of the same passage for each. A question may ask for several
things (「年功工资一年加多少,最多加到多少」 is two numbers); `kinds` holds every kind its wording shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ingest.chinese_text import fold_for_search


class Kind(StrEnum):
    NUMBER = "number"  # an amount, share, score, count
    DURATION = "duration"  # how long, how often, when
    LIST = "list"  # steps, conditions, items, stages
    DEFINITION = "definition"  # what is X, what is it called
    REASON = "reason"  # why
    HOWTO = "howto"  # how to do it, what to do
    YESNO = "yesno"  # can I, is it


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (Kind.DURATION, _any("多久", "多长时间", "多少天", "几天", "几个月", "几年", "多少年", "哪年", "什么时候", "何时")),
    (Kind.DURATION, _any("几点", "期限", "时限", "周期", "频率", "多长", "每(?:隔)?(?:多|几)", "一年几次", "几次")),
    # 「哪几个维度」 asks to name them, 「几个顾问」 to count them
    (
        Kind.NUMBER,
        _any("多少", "(?<!哪)几[道题分个人档级%成倍]", "(?<!哪)几$", "百分之", "比例", "占比", "权重", "比重"),
    ),
    (Kind.NUMBER, _any("分数", "分数线", "扣几", "多少钱", "多大", "几成")),
    (Kind.LIST, _any("哪些", "哪几", "几个阶段", "几步", "步骤", "流程是", "流程有", "有什么要求", "有啥要求")),
    (Kind.LIST, _any("条件", "原则", "都有啥", "都有什么", "都包括", "分别是")),
    (Kind.LIST, _any("(?:最后|前|后)[一两二三四五几]个", r"第[一二三四五六七八九十\d]+(?:个|步|条|项|点)")),
    (Kind.LIST, _any("要点", "包括", "包含", "分几", "环节", "有哪", "哪[三四五六七八]", "列举", "科目")),
    (Kind.LIST, _any("[三四五六七八九十两]个(?:阶段|步骤|方面|部分|原则|特点)")),
    (Kind.DEFINITION, _any("什么是", "是什么", "是啥", "啥是", "指什么", "什么意思", "啥意思", "含义", "定义")),
    (Kind.DEFINITION, _any("叫什么", "叫啥", "指的是", "何谓", "是指")),
    # what a thing is for is said as what it is: 「SLA是干嘛用的」 → 「通过SLA协议衔接前后端」
    (Kind.DEFINITION, _any("干嘛用", "干啥用", "有啥用", "有什么用", "用来干", "起什么作用", "啥作用")),
    (Kind.REASON, _any("为什么", "为啥", "为何", "原因", "怎么会", "why", "图啥", "图个啥", "为了啥", "图的是")),
    (Kind.HOWTO, _any("怎么", "如何", "怎样", "咋", "该怎", "技巧", "方法", "建议", "注意什么", "应该", "做法")),
    (Kind.HOWTO, _any("要做什么", "策略", "应对")),
    (Kind.YESNO, _any("能不能", "可不可以", "可以不", "是不是", "是否", "能否", "行不行", "会不会", "要不要")),
    (Kind.YESNO, _any("有没有")),
    (Kind.YESNO, _any(r"[吗嘛]\s*[??]?$")),
)


_LISTED_NOUN = re.compile(
    r"(?:啥|什么|哪些)(?:样的|不一样的|不同的)?(?:好处|特点|作用|功能|优势|区别|不同|特征|职责|内容|措施)"
)


@dataclass(frozen=True)
class QuestionType:
    kinds: frozenset[Kind]

    def wants(self, kind: Kind) -> bool:
        return kind in self.kinds

    @property
    def wants_number(self) -> bool:
        return bool(self.kinds & {Kind.NUMBER, Kind.DURATION})


def classify(question: str) -> QuestionType:
    """Every kind the question's wording asks for (empty when it shows none: a bare topic)."""
    text = fold_for_search(question).strip()
    kinds = {kind for kind, pattern in _PATTERNS if pattern.search(text)}
    if re.search(r"多少(?:种|类|个方面|个步骤|步|个阶段|阶段)|几(?:种|类|步|条|点|项|个阶段|个方面)", text):
        kinds.add(Kind.LIST)  # "how many stages" is answered by naming them
    if _LISTED_NOUN.search(text):
        kinds.add(Kind.LIST)  # 「有啥好处」「啥特点」 asks for the benefits, the traits: a list
    return QuestionType(frozenset(kinds))


_FOCUS = re.compile(
    r"(?<!为)(?:哪几|哪些|哪[一二三四五六七八九十两]?|几|多少|什么|啥)(?:种|个|类|条|项|步|点|门|级|方面|位|家|份|样|大)?([\u3400-\u9fff]{1,6})"
)
_NOT_FOCUS = ("时候", "时间", "意思", "钱", "是", "的", "呢", "吗", "了", "呀", "啊")


_HOW = re.compile(r"(?:怎么|怎样|如何|咋)(?:样)?(?:才能|才|去|来|能|给)?([\u3400-\u9fff]{2,6})")
_NOT_ACTION = ("办", "做", "回事", "说", "弄", "搞", "样", "看")


def focus_words(question: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The thing the question asks to be named or counted, or the action it asks how to do: 「分几种身份」 →
    身份, 「依据哪几条原则」 → 原则, 「谈判时我该怎么让步」 → 让步 — the first of its `words` right after the
    question word."""
    folded = fold_for_search(question)
    for pattern, generic in ((_FOCUS, _NOT_FOCUS), (_HOW, _NOT_ACTION)):
        found = pattern.search(folded)
        if found is None or found.group(1).startswith(generic):
            continue
        after = found.group(1)
        focus = tuple(w for w in words if len(w) > 1 and after.startswith(w))[:1]
        if focus:
            return focus
    return ()


# A number a passage states: digits (with a unit or %) or a Chinese numeral before a measure word.
NUMERIC = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|‰|元|万|亿|分|题|次|天|日|周|个月|月|年|小时|倍|人|个|项|级|档|条|步|星|:)?"
    r"|[一二两三四五六七八九十百千万半]+\s*(?:个月|年|月|天|周|次|倍|成|分|人|步|项|级|档|条|星)"
)


@dataclass(frozen=True)
class AmountClass:
    """What kind of number a question wants, and what a passage must state to supply one."""

    name: str
    cue: re.Pattern[str]
    stated: re.Pattern[str]
    topic: re.Pattern[str] = re.compile(r"(?!)")  # words that only name the amount (月租): no anchors

    def is_topic(self, word: str) -> bool:
        return bool(self.cue.search(word) or self.topic.fullmatch(word))


_DIGITS = r"\d+(?:\.\d+)?"
_CN_NUMBER = r"[一二两三四五六七八九十百千半]+"
_CN_SCORE = r"[一二两三四五六七八九]+[十百]?[一二三四五六七八九]?"  # 六十分, 五分: not 十分 (very) nor 百分之
_ASKS = r"(?:多少|几|多高|多大|多长|怎么算|是啥|是什么)"  # wording that asks for the amount itself
# A company's measures, each under its names: money to ask for, and each must stand by its own amount (`slots`:
# 华为's 7,212 亿元 of 销售收入 of 2018 are its 营收, not its 净利润).
COMPANY_MEASURES = (
    ("净利润", "净利", "利润"),
    ("营收", "营业收入", "销售收入", "营业额", "销售额"),
    ("毛利", "毛利润"),
    ("市值",),
)
# 评价 is an evaluation and 价值(观) a value, not a price
_MONEY = "(?:钱|费|(?<!评)价(?!值)|工资|薪|月租|报价|收入|奖金|补贴|{})".format(
    "|".join(name for group in COMPANY_MEASURES for name in group)
)
_SCORE = r"(?:分数|分数线|及格|过线|满分|得分)"
_TIME = r"(?:时限|期限|周期|限时|时长|时间(?=有?多长))"  # 「考试时间多长」
_SIZE = r"(?:容量|空间|带宽|网速|速率)"


# a share as passages state it; 「86的被调查者认同」 is one whose % sign the scrape lost (a bare number before 「的」
# and the people it counts has no other reading)
SHARE_STATED = re.compile(
    rf"{_DIGITS}\s*[%‰]|百分之(?!百)|{_CN_NUMBER}成|(?<![\d.]){_DIGITS}的[\u4e00-\u9fff]{{0,3}}(?:者|人|员|户)"
)


def _asked(topic: str) -> str:
    """The topic word and an asking word in one clause, either order: 「月租多少」「多少钱」「工资是多少」."""
    return rf"{topic}[^,,。;;??!!]{{0,8}}{_ASKS}|{_ASKS}[^,,。;;??!!]{{0,4}}{topic}"


AMOUNT_CLASSES: tuple[AmountClass, ...] = (
    AmountClass(  # 「单价一共让了多少」: a concession is said as a share or an amount (「累计下调约 7%」)
        "reduction",
        _any("(?:让|降|下调|优惠|打折|便宜)了?[^,,。;;??!!]{0,4}(?:多少|几)"),
        re.compile(rf"{_DIGITS}\s*(?:%|元|万|块|折)|百分之(?!百)|{_CN_NUMBER}折"),
        re.compile("让价|降价|优惠|折扣"),
    ),
    AmountClass(  # before money: 「绩效工资占总工资百分之几」 asks for a share
        "share",
        _any("比例", "占比", "百分之几", "百分之多少", "权重", "比重", "几成"),
        SHARE_STATED,
    ),
    AmountClass(
        "money",
        _any(_asked(_MONEY), "多少元"),
        # pay tables list bare amounts in a row: 「B级 350 470 600」
        re.compile(rf"{_DIGITS}\s*(?:元|万|亿|块|美元)|[¥￥]\s*{_DIGITS}|\d{{2,}}(?:\s+\d{{2,}})+"),
        re.compile(rf"{_MONEY}+|多少钱|费用|价格|资费|月费|年费"),
    ),
    AmountClass(  # 「名额给几个」: places are a count of people
        "places",
        _any("名额[^,,。;;??!!]{0,6}(?:多少|几)", "(?:多少|几)个?名额"),
        re.compile(rf"(?:{_DIGITS}|{_CN_NUMBER})\s*(?:个|名|人)"),
        re.compile("名额"),
    ),
    AmountClass(  # 「分数怎么算」「工资咋算」 ask for a formula (or the number it comes to)
        "formula",
        _any("怎么算", "咋算", "如何计算", "怎么计算", "计算公式"),
        re.compile(rf"得分\s*[=:]|=[^=。\n]{{0,40}}[×*/÷]|{_DIGITS}\s*(?:分|%|元)"),
    ),
    AmountClass(  # 「扣几分」 asks for a change of score: 「扣 2 分」 answers it, and only such a change does
        "score change",
        _any("[扣减加]几分(?!钟)", "[扣减加]多少分(?!钟)", "扣几", "扣多少"),
        re.compile(rf"[扣减加]\s*{_DIGITS}\s*分|[扣减加]\s*{_CN_NUMBER}分"),
        re.compile(rf"{_SCORE}|多少分|几分"),
    ),
    AmountClass(  # 「目标多少分」「及格多少分」 ask for a level: 「扣 2 分」 is no level
        "score",
        _any("几分(?!钟)", "多少分(?!钟)", _asked(_SCORE)),
        re.compile(
            rf"(?<![扣减加\s\d.])\s*{_DIGITS}\s*分|{_DIGITS}\s*[/-]\s*{_DIGITS}|(?<![扣减加]){_CN_SCORE}分(?!之)"
        ),
        re.compile(rf"{_SCORE}|多少分|几分"),
    ),
    AmountClass(  # 「网盘多大容量」「带宽多少」: a size in its unit
        "size",
        _any(_asked(_SIZE)),
        re.compile(rf"{_DIGITS}\s*(?:g|m|k|t|gb|mb|kb|tb|兆|千兆|百兆|mbps|gbps|m/s)(?![a-z])"),
        re.compile(_SIZE),
    ),
    AmountClass(
        "time",
        _any("多久", "多长时间", "几天", "几个月", "几年", "什么时候", "何时", "哪年", "多少年", _asked(_TIME)),
        re.compile(
            rf"(?:{_DIGITS}|{_CN_NUMBER})\s*(?:天|日|周|个?月|年|小时|分钟|个工作日)|每(?:半)?(?:年|季度|月|周|天)|当天|当场"
        ),
    ),
)


_UNITS = (
    "兆|m|g|gb|mb|人|户|家|台|小时|分钟|课时|天|周|个月|年|次|倍|万|公里|平方米|网点|个网点"
    "|顾问|专家|员工|人员|客户经理|集团客户|客户"
)
_HOW_MANY_UNIT = re.compile(rf"(?:多少|(?<!哪)几)(?:个|名|位)?({_UNITS})")
# A phone number has a phone's shape — a service number (95572, 10086), 400/800, an area code, a mobile — not any
# run of digits: 「问鼎资讯-57p-201102」 ends in a year and month.
PHONE = AmountClass(
    "phone",
    _any("电话", "号码", "热线"),
    re.compile(r"(?<![\d.-])(?:0\d{2,3}-?\d{7,8}|1[3-9]\d{9}|[48]00-?\d{3}-?\d{4}|\d{5})(?![\d-])"),
    re.compile("电话|号码|热线"),
)
# 「几点下班」 asks for a clock time; 「哪几点」「有几点」 for points to list.
TIME_OF_DAY = AmountClass(
    "clock", _any("(?<![哪有分])几点"), re.compile(r"\d{1,2}\s*[::]\s*\d{2}|\d{1,2}\s*点"), re.compile("几点")
)


def _unit_class(unit: str) -> AmountClass:
    """「多少兆」「几个课时」: the question names its unit, so a passage must state a number in that unit."""
    return AmountClass(
        f"unit:{unit}",
        re.compile(rf"(?:多少|几)(?:[个名位])?{unit}"),
        re.compile(rf"(?:{_DIGITS}|{_CN_NUMBER})\s*(?:[个名位]\s*)?{unit}"),  # 「60 个网点」 for 「多少个网点」
        re.compile(re.escape(unit)),  # the unit only names the amount: 「45 分钟」 must stand by the exam, not by 分钟
    )


def amount_class(question: str) -> AmountClass | None:
    """The kind of number a question asks for, when its wording names one."""
    text = fold_for_search(question)
    if PHONE.cue.search(text) and re.search(
        rf"{_ASKS}|哪个(?:号码|电话)|拨什么|打什么|有没有(?:个|啥)?(?:联系)?电话", text
    ):
        return PHONE
    if TIME_OF_DAY.cue.search(text):
        return TIME_OF_DAY
    named = next((a for a in AMOUNT_CLASSES if a.cue.search(text)), None)
    unit = _HOW_MANY_UNIT.search(text)
    if unit is not None and (
        named is None or named.name == "size" or (named.name == "time" and unit.group(1) not in ("年", "个月", "天"))
    ):  # the unit the question names is the more precise: 「带宽多少兆」
        return _unit_class(unit.group(1))
    return named


_LATIN_TERM = re.compile(r"(?<![a-z0-9])[a-z]{2,8}(?![a-z0-9])")


def latin_terms(question: str) -> tuple[str, ...]:
    """The question's Latin-letter terms, folded (「EDI模型」 → edi, 「BPR里SLA」 → bpr, sla): acronyms a learner
    types name the thing asked about as precisely as a product name does."""
    return tuple(dict.fromkeys(_LATIN_TERM.findall(fold_for_search(question))))
