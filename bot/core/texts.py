"""Every sentence a user reads, in one place (Simplified Chinese). Never show exception text to users."""

from __future__ import annotations

WELCOME_NEW = (
    "您好,我是随身教练 PocketCoach。\n"
    "使用前请先登记(只需一次)。如果管理员给了您邀请码,直接发送邀请码即可。\n"
    "请输入您的姓名:"
)
ASK_EMPLOYEE_NO = "请输入您的工号(字母或数字,4–20 位):"
ASK_REGION = "请输入您所在的地区/分公司(例如:西宁分公司):"
ASK_LEVEL = "请选择您目前的级别:"
REGISTERED = (
    "登记完成,{name}({level})。\n直接输入问题即可查资料,例如:「晋级需要走哪些流程?」\n发送 /help 查看全部功能。"
)
INVITE_ACCEPTED = "邀请码有效,已为您登记:{name}({role})。\n发送 /help 查看全部功能。"
BAD_NAME = "姓名需要 2–20 个字,请重新输入:"
BAD_EMPLOYEE_NO = "工号格式不对(4–20 位字母或数字),请重新输入:"
EMPLOYEE_NO_TAKEN = "这个工号已经登记过。如果是您本人,请联系管理员;否则请重新输入工号:"
BAD_REGION = "地区需要 2–30 个字,请重新输入:"
BAD_LEVEL = "请点下面的按钮选择级别:"
BAD_INVITE = "邀请码无效或已使用,请检查后重试,或直接输入姓名开始登记:"
NOT_REGISTERED = "请先完成登记后再使用。"

HELP = (
    "随身教练能做什么:\n"
    "• 直接输入问题:从案例库、谈判课程和流程手册里找答案,附来源\n"
    "• /ask 问题:同上\n"
    "• /filter 案例|课程|流程|全部:只查某一类资料\n"
    "• /whoami:查看我的登记信息\n"
    "• /help:显示这条帮助"
)
HELP_ADMIN = "\n管理员:\n• /grant 工号 角色(学员/培训师/主管/管理员)\n• /invite 角色 姓名 工号 地区 级别:生成邀请码"
HELP_TRAINER = "\n培训师:\n• /unanswered:最近没找到答案的问题"

UNSUPPORTED = "我目前只能看懂文字。请直接输入问题,例如:「初级客户经理谈判要注意什么?」。发送 /help 查看全部功能。"
UNKNOWN_COMMAND = "没有这个命令:/{command}。发送 /help 查看可用的命令。"
NOT_ALLOWED = "您的角色不能使用 /{command}。"
EMPTY_QUESTION = "请在 /ask 后面写上问题,例如:/ask 投诉处理流程是什么"
QUESTION_TOO_LONG = "问题太长了(最多 {limit} 字),请只写关键内容。"

ANSWER_TITLE = "答案"
NOT_FOUND = "资料库里没有找到可靠的答案。"
NOT_FOUND_HINT = "可以换个说法再问;这个问题已记录,培训师会补充资料。"
SOURCES = "来源:"
BUTTON_OPEN_SOURCE = "📖 原文{number}"
BUTTON_MORE = "更多结果"
BUTTON_UP = "👍 有用"
BUTTON_DOWN = "👎 没用"
MORE_RESULTS_TITLE = "更多结果"
NO_MORE_RESULTS = "没有更多结果了。"
SOURCE_TITLE = "原文 [{number}] {title}"
THANKS_UP = "谢谢反馈!"
THANKS_DOWN = "谢谢反馈,我们会改进这类问题的资料。"
ALREADY_DONE = "已处理过了。"
BUTTON_EXPIRED = "这个按钮已失效,请重新提问。"

FILTER_SET = "好的,之后只查:{name}。发送 /filter 全部 恢复查全部资料。"
FILTER_ALL = "好的,之后查全部资料。"
FILTER_USAGE = "用法:/filter 案例|课程|流程|综合|全部"
WHOAMI = "姓名:{name}\n工号:{employee_no}\n地区:{region}\n级别:{level}\n角色:{role}\n查询范围:{filter}"

GRANT_USAGE = "用法:/grant 工号 角色(学员/培训师/主管/管理员)"
GRANT_DONE = "已将 {name}({employee_no})设为{role}。"
GRANT_UNKNOWN = "没有找到工号 {employee_no} 的人员。"
INVITE_USAGE = "用法:/invite 角色 姓名 工号 地区 级别,例如:/invite 学员 张三 A1024 西宁分公司 初级"
INVITE_CREATED = "邀请码:{code}\n请交给 {name},对方发给机器人即可完成登记。"
UNANSWERED_NONE = "最近没有未找到答案的问题。"
UNANSWERED_TITLE = "最近没找到答案的问题"

DATABASE_DOWN = "系统暂时无法访问数据,您的操作没有保存,请稍后再试。"
INTERNAL_ERROR = "出了点问题,请稍后再试 (编号 {incident})"
