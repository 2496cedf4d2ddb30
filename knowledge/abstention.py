"""When to say "资料库里没有找到可靠的答案" instead of showing noise. Pure functions.

Three rules, each for a way a wrong reply slipped through coverage alone:
* coverage — the best passage must hold enough of the question's informative terms (IDF-weighted); below that,
  the dense side vouches for the question when its nearest passages agree with the lexical side's beyond chance;
* named things — a question that names a product, fee, company or chore (knowledge/dictionaries/entities.txt)
  is answered only by a passage that names it too: 「怎么申请信用卡」 is not answered by 「申请晋级」;
* amounts — a question that asks for money, a share, a score or a time needs a passage sentence (or list item)
  stated near one of the question's key terms: the Qinghai case exists, its monthly fee does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.blocks import is_lead_in, is_list_item
from ingest.chinese_text import fold_for_search
from knowledge.question_types import AmountClass

NOT_FOUND_TEXT = "资料库里没有找到可靠的答案。"
_SENTENCE_BREAK = re.compile(r"[。!?!?\n]")
_ITEM_START = re.compile(r"(?<![\d.])\d{1,2}、|[((]\d{1,2}[))]")  # 「说明: 1、有专业职称的…」 starts another item
AMOUNT_REACH = 40  # characters either side of a key term within which the asked-for amount must stand
EVENT_REACH = 80  # … of the event or fee the question names (「哪年形成的」: 「(2005年),…总结…,形成了…」)
SHORT_LEAD_IN = 40  # a list item is read with its lead-in when the lead-in is this short
AGREEMENT_TOP = 5  # how many of each side's best passages the agreement of the two retrievers is judged on


@dataclass(frozen=True)
class AbstentionPolicy:
    """Abstain unless the best passage covers enough of the question's informative terms.

    Coverage is IDF-weighted: rare words (来电提醒, ARPU) count far more than common ones (客户).
    """

    min_coverage: float = 0.5
    agreement_floor: float = 0.01  # below min_coverage but at least this, the dense side may vouch for the question
    agreement_passages: int = 2  # … when this many of its best passages are also the lexical side's best

    def should_abstain(
        self, *, has_terms: bool, best_coverage: float | None, agreement: int | None = None, passages: int = 0
    ) -> bool:
        """`agreement`: how many passages the lexical and the dense side both rank among their `AGREEMENT_TOP`
        best (None when there is no dense side), out of the index's `passages`. Coverage counts the words the
        index lacks at full weight, and a learner's colloquial words (「降降温」「拍板」「卡在哪」) are such words:
        two retrievers finding the same passages say the question is about them anyway. A chore (「会议室咋预约」)
        finds no such agreement."""
        if not has_terms or best_coverage is None:
            return True
        if best_coverage >= self.min_coverage:
            return False
        needed = self.agreement_needed(passages)
        return not (
            agreement is not None
            and needed is not None
            and best_coverage >= self.agreement_floor
            and agreement >= needed
        )

    def agreement_needed(self, passages: int) -> int | None:
        """Shared passages that say more than chance: two lists of 5 drawn from 10 passages share 2.5 on average,
        from the 338 of the corpus 0.07. Twice the chance overlap, at least `agreement_passages`; None when even
        all 5 would not be (a library of a handful of passages: there agreement says nothing)."""
        if passages <= 0:
            return None
        needed = max(self.agreement_passages, math.ceil(2 * AGREEMENT_TOP * AGREEMENT_TOP / passages))
        return needed if needed <= AGREEMENT_TOP else None

    def wants_agreement(self, best_coverage: float | None) -> bool:
        """Is the coverage in the band where the dense side's agreement decides?"""
        return best_coverage is not None and self.agreement_floor <= best_coverage < self.min_coverage


def named_entities(question: str, entities: Iterable[str]) -> tuple[str, ...]:
    """The named things (products, companies, fees, chores) the question names, longest match only."""
    folded_question = fold_for_search(question)
    named = [e for e in entities if e in folded_question]
    return tuple(e for e in named if not any(e != other and e in other for other in named))  # 专线 in 数字专线


def missing_entities(question: str, entities: Iterable[str], passages: Sequence[str]) -> tuple[str, ...]:
    """The named things in the question that none of the passages names."""
    named = named_entities(question, entities)
    texts = [fold_for_search(p) for p in passages]
    return tuple(e for e in named if not any(e in t for t in texts))


def states_amount(
    amount: AmountClass,
    passages: Iterable[str],
    anchors: Sequence[str],
    *,
    others: re.Pattern[str] | None = None,
    reach: int = AMOUNT_REACH,
) -> bool:
    """Does a passage state an amount of the asked kind in the same sentence or line as one of the question's
    key terms, within `AMOUNT_REACH` characters of it — and not past one of `others` (another pay item the
    question does not name: the 20 元 after 「补贴、绩效工资…年功工资满一年」 are the 年功工资's)? With no key term
    the index knows, the question is not about these documents."""
    for passage in passages:
        folded = fold_for_search(_items_with_lead_ins(passage))
        for anchor in anchors:
            start = folded.find(anchor)
            while start >= 0:
                if amount.stated.search(_sentence_around(folded, start, len(anchor), others, reach)):
                    return True
                start = folded.find(anchor, start + 1)
    return False


def _items_with_lead_ins(text: str) -> str:
    """Each list item on one line with its short lead-in (「来电提醒的资费:」 then 「- 月租 30 元」)."""
    lines: list[str] = []
    lead = ""
    for line in text.splitlines():
        if is_list_item(line) and lead:
            lines.append(f"{lead}{line}")
            continue
        lead = line if is_lead_in(line) and len(line) <= SHORT_LEAD_IN else ""
        lines.append(line)
    return "\n".join(lines)


def _sentence_around(
    text: str, start: int, length: int, others: re.Pattern[str] | None = None, reach: int = AMOUNT_REACH
) -> str:
    """The text around a match up to `AMOUNT_REACH` characters either side, not past a sentence or line end
    (nor past one of `others`)."""
    left = text[max(start - reach, 0) : start]
    right = text[start + length : start + length + reach]
    left = _ITEM_START.split(_SENTENCE_BREAK.split(left)[-1])[-1]
    right = _ITEM_START.split(_SENTENCE_BREAK.split(right)[0])[0]
    if others is not None:
        left = others.split(left)[-1]
        right = others.split(right)[0]
    return left + text[start : start + length] + right
