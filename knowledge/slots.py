"""What a question asks the documents to supply, when it is not a plain amount. Pure functions.

A question may name real things of the documents and still ask for something they never hold: 「哪年做的」
needs a year, 「哪家咨询公司做的」 a company's name, 「哪位领导提出的」 a person, 「申请表去哪下载」 a place to get
it, 「几天内要处理完」 a number of days. Coverage and named things let such a question through (the training
programme, the form and the complaint procedure are all there), and the reply shows what is there instead
(80 hours of training for 「要等多久」, 「明确时限」 for 「几天内」). Each slot says what a passage must state
beside the question's key terms for the question to count as answered (`abstention.states_amount`); each is
an `AmountClass`, so the amount rule reads it the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.chinese_text import fold_for_search
from knowledge.question_types import COMPANY_MEASURES, SHARE_STATED, AmountClass, amount_class

_NAME_CHARS = r"[\u3400-\u9fffa-z]"
_NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千半]+)"

YEAR = AmountClass(
    "year",
    re.compile(r"哪(?:一|个)?年|什么年份|几几年|哪个年份"),
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)|[一二〇零○][一二三四五六七八九〇零○]{3}年"),
)
# 「东莞两个分公司」 names no company; 「麦肯锡咨询公司」「中国银行」「人民医院」 do.
ORGANISATION = AmountClass(
    "organisation",
    re.compile(r"哪(?:一)?家|哪个(?:公司|机构|单位|银行|医院|厂家|供应商)|什么(?:公司|机构|单位)"),
    re.compile(
        rf"{_NAME_CHARS}{{2,10}}?(?<![分子本该贵我总各全每家个])"
        r"(?:公司|集团|银行|医院|事务所|研究院|研究所|大学|学院|协会)"
    ),
)
# 「哪位领导提出的」「谁提出的」 want a person: a title after a name or a unit (「董事长」「张总经理」「李教授」);
# 「谁发起」「要谁批」 are left out — a department answers them (「由人力资源部发布通知」), and 客户经理 is everywhere.
PERSON = AmountClass(
    "person",
    re.compile(
        r"哪位|哪个(?:领导|人|老师|专家)|什么人(?:提出|说)|谁(?:最早|最先|首先)?(?:提出|说|讲|创|写)"
        r"|(?:老总|领导|负责人|总经理|董事长|总裁|创始人|老板|行长|局长|培训师|讲师|老师|教练)"
        r"(?:是谁|叫(?:啥|什么)|是哪位)"
    ),
    re.compile(
        rf"{_NAME_CHARS}{{1,6}}(?:董事长|总经理|总裁|总监|书记|主任|部长|局长|行长|主席|教授|老师|讲师|培训师|先生|女士)"
        r"|提出者"
    ),
)
# 「去哪下载」「在哪领」 want a place to get or do it: a web address, or a system, site, desk or department
# the passage sends one to (「登录 OA 系统下载」「到人力资源部领取」) — not any system it mentions (「帐务系统划分」).
_GET = r"(?:下载|领取|领|拿|查询|查|填写|填|办理|补办|办|申请|报名|提交|交|获取|打印|买|购买)"
PLACE = AmountClass(
    "place",
    re.compile(rf"(?:去|到|在|上|从)?哪(?:里|儿|个网站|个系统|个平台)?{_GET}|{_GET}[^,,。??]{{0,4}}(?:在|去|到)哪"),
    re.compile(
        r"https?://|www\.|[a-z0-9-]+\.(?:com|cn|net|org)"
        rf"|(?:在|到|去|从|上|登录|登陆|进入|通过|访问|关注)\s*[\u3400-\u9fffa-z ]{{0,10}}"
        r"(?:系统|网站|平台|官网|网页|门户|公众号|小程序|app|oa|邮箱|网盘|共享盘|营业厅|服务台|窗口|柜台)"
        rf"|(?:向|到|去|找|从|由){_NAME_CHARS}{{1,10}}(?:部|中心|处|科|室|办公室)"
    ),
)

# 「甲行是哪个城市的」 wants a city or province by name: 「某城市商业银行」「全市 60 个网点」 name none. A name with its
# 市/省, or one of the provinces and large cities a passage writes without it (「选择苏州昆明作第一批试点」).
_PLACE_NAMES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 "
    "四川 贵州 云南 陕西 甘肃 青海 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 台湾 "  # the provinces, then large cities
    "石家庄 太原 沈阳 大连 长春 哈尔滨 南京 苏州 无锡 常州 南通 杭州 宁波 温州 台州 合肥 福州 厦门 南昌 "
    "济南 青岛 郑州 武汉 长沙 广州 深圳 东莞 佛山 珠海 海口 成都 贵阳 昆明 西安 兰州 西宁 呼和浩特 南宁 "
    "拉萨 银川 乌鲁木齐"
)
CITY = AmountClass(
    "city",
    re.compile(r"哪(?:个|座|一个)(?:城市|省份?|市)|在哪个?城市|什么城市"),
    re.compile(
        "|".join(_PLACE_NAMES.split())
        + r"|[\u4e00-\u9fff]{2,3}(?<![某全本该各每城上超门股夜集早黑])(?:市|省)(?![场民区内政委直])"
    ),
)

# 「几天内」 is answered by days (or hours, weeks: 「24 小时内」「一周内」), not by 「半年后」 beside the same words.
_DAYS = r"(?:天|日|个工作日|工作日|小时|周|星期)"
DAYS = AmountClass(
    "days",
    re.compile(r"几天|多少天|几个工作日|多少个工作日"),
    re.compile(rf"{_NUMBER}\s*{_DAYS}|当天|当日|即时|立即"),
)
# 「多久」 wants a number with a unit of time; 「每月」 only answers how often (「多久一次」「多久考核一次」).
_OFTEN = re.compile(r"一次|每(?:隔)?(?:多|几)|频率|周期|多久.{0,6}次")
DURATION = AmountClass(
    "duration",
    re.compile(r"多久|多长时间|多长|几个月|多少年|几年"),
    re.compile(rf"{_NUMBER}\s*(?:天|日|周|个?月|年|小时|分钟|个工作日|季度)|当天|当场"),
)

# 「收益率多少」「利率是多少」 want a percentage, as a share does; so does a rate's target
# (「离网率考核的目标值定多少」).
RATE = AmountClass(
    "rate",
    re.compile(
        r"率[^,,。;;??!!]{0,6}(?:多少|几|多高|(?:是啥|是什么)(?!原因|意思|定义|概念))|率[^,,。;;??!!]{0,12}目标值?[^,,。;;??!!]{0,6}(?:多少|多高)"
    ),
    SHARE_STATED,
)

# 「每个月几号出来」「几月份报名」 want a day of the month or a month, not 「每半年一次」.
DATE = AmountClass(
    "date",
    re.compile(r"几号|哪天|哪一天|几月份|几月|哪个月"),
    re.compile(
        r"(?<![\d个每])(?:\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份|初|底|中旬|上旬|下旬)?"
        r"|(?<!\d)\d{1,2}\s*[日号]|月初|月底|月末|月中"
    ),
)

# 「网址是多少」 wants a web address.
WEB = AmountClass(
    "web",
    re.compile(r"网址|网站地址|域名|链接是|官网是|网站是"),
    re.compile(r"https?://|www\.|[a-z0-9-]+\.(?:com|cn|net|org)(?![a-z])"),
)

SLOTS = (YEAR, ORGANISATION, PERSON, CITY, DATE, PLACE, DAYS, RATE, WEB)  # 「申请截止到哪天」 is a date


# 「客户问开通要几天,咋答」 asks what to say, not the number of days the customer asked about.
_HOW_TO_REPLY = re.compile(r"(?:咋|怎么|如何|怎样|该怎么)(?:回答|回复|回应|答复|答|回|解释|应对)")


def asked_slot(question: str) -> AmountClass | None:
    """What the question asks to be supplied — a year, a company, a person, a place, a number of days, a
    duration — or the amount `question_types.amount_class` reads (money, share, score, a unit)."""
    text = fold_for_search(question)
    if _HOW_TO_REPLY.search(text):
        return None
    slot = next((s for s in SLOTS if s.cue.search(text)), None)
    if slot is not None:
        return slot
    amount = amount_class(question)
    if amount is not None and amount.name == "time" and DURATION.cue.search(text) and not _OFTEN.search(text):
        return DURATION
    return amount


# 「报名费多少钱」「运费多少」 name the fee; an amount beside another word of the question (the company's
# registered capital, a salary table) is not that fee. 「免费」「消费」「资费」「收费」 name no fee of their own.
_FEE = re.compile(r"([\u3400-\u9fff])(?<![免消花浪资收付缴交经])费(?!用)")
# 「要等多久才能提车」「多久能复机」 ask how long until an event; 80 hours of training are not that wait.
# 「从下单到交车要多久」 names the event before 多久.
_UNTIL = re.compile(
    r"多久(?:才能|才可以|才会|就能|后能|后可以|能|可以|会)([\u3400-\u9fff]{1,6})"
    r"|到([\u3400-\u9fff]{2,4}?)(?:要|需要|得|大概|大约)*多久"
)
# 「哪一年成立的」 asks the year of an event: 2011 beside 「进军电子商务」 is not the year it was founded.
_YEAR_OF = re.compile(r"哪(?:一|个)?年(?:正式|开始|首次|才)?([\u3400-\u9fff]{2,4})")
# 「几天内必须答复」 asks by when the reply is due; 4 hours of repair time beside 「投诉」 are not that deadline.
_WITHIN = re.compile(
    r"(?:几天|多少天|几个工作日|多少个工作日)(?:之内|以内|内)?(?:必须|需要|应该|要|得|需|应|就|能)*([\u3400-\u9fff]{2,6})"
)


_EVENT_OF = {"duration": _UNTIL, "days": _WITHIN, "year": _YEAR_OF}  # the slots asked of an event the question names


def asked_about(question: str, slot: AmountClass | None, words: Sequence[str]) -> tuple[str, ...]:
    """The words the asked-for amount must stand beside, when the question names what the amount is of:
    a company's measure under any of its names (「营收」: 销售收入), the fee (「运费」; its last two characters, as the
    question's words may split it: 「咨询费」 → 「询费」) or the event waited for, the first of the question's `words`
    after 「多久才能」 (「提车」), or the event whose year is asked (「哪一年成立」 → 成立)."""
    if slot is None:
        return ()
    text = fold_for_search(question)
    if slot.name == "money":
        measures = [name for group in COMPANY_MEASURES if any(n in text for n in group) for name in group]
        return (*(f"{m.group(1)}费" for m in _FEE.finditer(text)), *measures)
    pattern = _EVENT_OF.get(slot.name)
    if pattern is not None:
        found = [next(g for g in m.groups() if g) for m in pattern.finditer(text)]
        events = [w for event in found for w in words if len(w) > 1 and event.startswith(w)]
        if not events and found and len(found[0]) == 1:
            events = found[:1]  # 「多久能提」: the event is one character, a word of its own
        return tuple(events[:1])
    return ()


# The items of a pay: an amount beside one the question does not name is that item's (「职业技能鉴定补贴多少钱」
# is not answered by the 20 元 of the 年功工资 listed after it).
PAY_ITEMS = ("工资", "补贴", "津贴", "奖金", "薪酬", "底薪", "提成", "绩效")


def other_pay_items(question: str, slot: AmountClass | None) -> re.Pattern[str] | None:
    """For a money question naming a pay item, the other pay items, where the amount's context ends."""
    text = fold_for_search(question)
    if slot is None or slot.name != "money" or not any(item in text for item in PAY_ITEMS):
        return None
    others = [item for item in PAY_ITEMS if item not in text]
    return re.compile("|".join(others)) if others else None
