"""`coach`: the console command. Each subcommand is one line in `coach --help`.

This module imports nothing but the standard library: `coach --help` and a wrong argument answer at once, and
each command imports only what it uses (`app.commands.dispatch`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.settings import Settings

# The knowledge collections, as app.settings.COLLECTIONS (tests/test_cli.py holds the two together): settings
# import pydantic, which `coach --help` does not need.
COLLECTIONS = ("cases", "courses", "processes", "general")
QUIZ_FORMATS = ("yaml", "xlsx", "gift", "aiken")

EVAL_DESCRIPTION = """\
每个语料目录只入库一次 (临时数据目录),同一语料上的评测集共用。
含 cases/ courses/ processes/ 子目录的语料目录像 make run 那样入库:每个子目录进对应集合,其余文件不入库;
其他目录整体进 general。

不给 --dataset 时 (make eval):
  ../shared/eval/dev.jsonl, bench/eval/holdout.jsonl, bench/eval/calibration_unanswerable.jsonl,
  bench/eval/corpus_holdout.jsonl                         语料 ../shared/corpus
  bench/eval/bundled_dev.jsonl, bench/eval/bundled_holdout.jsonl   语料 content/knowledge
  (不存在的文件跳过并说明)

回答: 回复正文 (不含来源列表) 是否含某条 evidence,与段落同样归一 (去空白、繁转简、全角转半角),
另去掉 ** 和 [1] 这样的引用标记;不要求来源文件相符,"+right file" 一列再要求第一个来源是对的文件。
基线 "best passage as reply" 把最好的段落截到同样长度直接当回复 (弃答相同)。
"""


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """--config and --data-dir. Subcommands take them too (`coach run --config F`), with SUPPRESS as default so a
    subcommand that was not given them keeps what was given before the subcommand."""
    options = argparse.ArgumentParser(add_help=False)
    default: Any = argparse.SUPPRESS if suppress else None
    options.add_argument(
        "--config", type=Path, default=default, help="配置文件 (默认 config.toml,或环境变量 COACH_CONFIG)"
    )
    options.add_argument(
        "--data-dir", type=Path, default=default, help="程序写入的所有文件放在这个目录 (或 COACH_DATA_DIR)"
    )
    options.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="出错时显示完整的错误追踪 (默认只显示说明,追踪写入 数据目录/logs/faults.log)",
    )
    return options


class _Subcommands:
    """`add_parser` that gives every subcommand, at every depth, the global options."""

    def __init__(self, parser: argparse.ArgumentParser, *, dest: str, parents: list[argparse.ArgumentParser]) -> None:
        metavar = "COMMAND" if dest == "command" else "ACTION"
        self._sub = parser.add_subparsers(dest=dest, required=True, metavar=metavar)
        self._parents = parents

    def add(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self._sub.add_parser(name, parents=self._parents, **kwargs)

    def nested(self, parser: argparse.ArgumentParser, *, dest: str) -> _Subcommands:
        return _Subcommands(parser, dest=dest, parents=self._parents)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach",
        description="PocketCoach 随身教练 — 客户经理的随身知识库与测评助手",
        parents=[_global_options(suppress=False)],
    )
    sub = _Subcommands(parser, dest="command", parents=[_global_options(suppress=True)])

    p = sub.add("ingest", help="读取文件或文件夹,清洗、切分后加入知识库 (增量);--repair 修复向量索引和缓存")
    p.add_argument("paths", nargs="*", type=Path, help="文件或文件夹 (--repair 时不需要)")
    p.add_argument("--collection", choices=COLLECTIONS, help="导入到哪个知识库 (给出文件时必填)")
    p.add_argument(
        "--repair", action="store_true", help="按数据库修复向量索引 (删多余向量、补缺少的) 和关键词索引缓存"
    )
    p.add_argument("--prune", action="store_true", help="移除文件已不存在的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出报告")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-wait", action="store_true", help="另一个导入正在写这个库时不等待,直接退出")

    p = sub.add(
        "setup-content",
        help="一次载入自带内容: 知识库 (目录/knowledge/cases|courses|processes) 和测验 (目录/quizzes/*.yaml),增量",
    )
    p.add_argument("folder", nargs="?", type=Path, default=Path("content"), help="内容目录 (默认 content)")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add("search", help="检索知识库,列出最相关的段落")
    p.add_argument("question", nargs="?")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--collection", action="append", choices=COLLECTIONS, help="只查这个库 (可重复)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch", type=Path, help='JSONL 文件,每行 {"id", "question"}')

    p = sub.add("ask", help="像聊天里一样回答一个问题 (手机长度,附来源)")
    p.add_argument("question", nargs="?")
    p.add_argument("--collection", action="append", choices=COLLECTIONS)
    p.add_argument("--json", action="store_true", help='输出 {"question", "found", "answer", "sources"}')
    p.add_argument(
        "--batch", type=Path, help='JSONL 文件,每行 {"id", "question"};每题输出一行 JSON,有坏行时退出码为 1'
    )

    p = sub.add(
        "eval",
        help="在评测集上测量回答 (回复里有没有事实) 和检索 (hit@1, hit@5, MRR@10),并与基线对比",
        description=EVAL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--dataset",
        action="append",
        metavar="F.jsonl[=语料目录]",
        help="评测集及它所依据的语料目录 (可重复);不写 =目录 时用 --corpus。不给时跑全部默认评测集",
    )
    p.add_argument("--corpus", type=Path, help="没写 =目录 的 --dataset 用的语料目录 (默认 ../shared/corpus)")
    p.add_argument("--no-baseline", action="store_true", help="不跑 LangChain 切分 + 纯向量基线")
    p.add_argument("--misses", action="store_true", help="列出回复里没有事实的问题,以及不该回答却回答了的问题")
    p.add_argument(
        "--json", action="store_true", help="标准输出只有一个 JSON (含每题记录,便于比较两次运行);表格写到标准错误"
    )

    p = sub.add(
        "db",
        help="数据库维护: upgrade 升级结构 | backup 文件 备份 | restore 文件 --yes 恢复 | prune 清理过期记录"
        " | check 检查向量索引和缓存与数据库是否一致",
    )
    p.add_argument("action", choices=["upgrade", "backup", "restore", "prune", "check"])
    p.add_argument("--days", type=int, default=30, help="prune: 删除多少天以前的消息去重记录和按钮 (至少 2)")
    p.add_argument("path", nargs="?", type=Path, help="备份文件 (backup/restore)")
    p.add_argument("--yes", action="store_true", help="restore: 确认用备份覆盖当前数据库")

    p = sub.add("users", help="人员管理: 列出人员、授予角色、生成邀请码")
    users = sub.nested(p, dest="users_action")
    users.add("list", help="列出已登记的人员")
    g = users.add("grant", help="授予角色: coach users grant 工号 角色")
    g.add_argument("employee_no")
    g.add_argument("role", help="学员/培训师/主管/管理员 (或 learner/trainer/supervisor/admin)")
    s = users.add("supervise", help="设置主管: coach users supervise 工号 主管工号 (主管工号写 - 表示取消)")
    s.add_argument("employee_no")
    s.add_argument("supervisor_no")
    i = users.add("invite", help="生成邀请码: coach users invite 角色 姓名 工号 地区 级别")
    for name in ("role", "name", "employee_no", "region", "level"):
        i.add_argument(name)
    b = users.add("bind", help="绑定账号免登记: coach users bind 工号 wecom:成员账号 | --from 表格.xlsx")
    b.add_argument("employee_no", nargs="?")
    b.add_argument("identity", nargs="?", help="wecom:成员账号 (UserID) 或 telegram:数字ID")
    b.add_argument("--from", dest="sheet", type=Path, help="Excel 表: 第 1 行有「工号」和「企业微信账号」两列")

    p = sub.add(
        "quiz", help="测验题库: import 检查 / publish 发布 / list 列表 / retire 下线 / template 模板 / retake 补考"
    )
    quiz = sub.nested(p, dest="quiz_action")
    q = quiz.add("import", help="读取并检查测验文件 (--dry-run 不发布)")
    q.add_argument("file", type=Path)
    q.add_argument("--format", choices=QUIZ_FORMATS)
    q.add_argument("--dry-run", action="store_true", help="只检查,不发布")
    q.add_argument("--json", action="store_true")
    q = quiz.add("publish", help="检查并发布测验 (有任何错误则不发布;可给多个文件,各自发布)")
    q.add_argument("files", nargs="+", type=Path, metavar="file")
    q.add_argument("--format", choices=QUIZ_FORMATS)
    quiz.add("list", help="列出已发布的测验")
    q = quiz.add("retire", help="下线测验: coach quiz retire ID")
    q.add_argument("set_id", type=int)
    q = quiz.add("template", help="生成 Excel 题库模板")
    q.add_argument("path", type=Path, nargs="?", default=Path("测验模板.xlsx"))
    q = quiz.add("retake", help="允许某人在本周期补考一次认证测验: coach quiz retake 工号 ID")
    q.add_argument("employee_no")
    q.add_argument("set_id", type=int)

    _add_record_parser(sub)

    p = sub.add("report", help="报表: coach report unanswered 列出最近没找到答案的问题")
    p.add_argument("kind", choices=["unanswered"])
    p.add_argument("--limit", type=int, default=50)

    sub.add("run", help="启动聊天: 配置了 TELEGRAM_BOT_TOKEN 时启动 Telegram,否则打开控制台聊天")
    return parser


def _add_record_parser(sub: _Subcommands) -> None:
    p = sub.add("record", help="认证记录: rate 评分 / correct 更正 / promote 晋级 / export 导出")
    record = sub.nested(p, dest="record_action")
    r = record.add("rate", help="录入评估人评分: coach record rate 工号 能力 工具 分数(1-3) --by 评估人工号")
    for name in ("employee_no", "competency", "instrument", "score"):
        r.add_argument(name)
    r.add_argument("--by", required=True, help="评估人工号")
    c = record.add("correct", help="更正一条记录(新增一条取代它,原记录保留)")
    c.add_argument("entry_id", type=int)
    c.add_argument("--score", type=int, required=True)
    c.add_argument("--level", type=int, choices=[0, 1, 2, 3], required=True)
    c.add_argument("--reason", required=True)
    c.add_argument("--by", required=True, help="更正人工号")
    m = record.add("promote", help="按规则晋级一步(不符合时列出原因): coach record promote 工号")
    m.add_argument("employee_no")
    m.add_argument("--supervisor-score", type=float, help="自评加上级评价分(晋级高级时需要)")
    m.add_argument("--by", help="操作人工号")
    e = record.add("export", help="导出给人力资源: --format csv|xlsx|xapi")
    e.add_argument("--format", choices=["csv", "xlsx", "xapi"], required=True)
    e.add_argument("--out", type=Path, help="输出文件 (默认写到标准输出;xlsx 必须给出)")


def _settings(args: argparse.Namespace) -> Settings:
    from app.settings import load_settings

    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    return load_settings(config_path=args.config, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    # pydantic looks for plugins in every installed distribution's entry points at its first model (~15 ms of each
    # command); we install none
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = _parser().parse_args(argv)
    from app.settings import SettingsError

    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from app.commands import dispatch
    from app.logging_setup import configure_logging

    configure_logging(level="DEBUG" if args.debug else settings.logging.level, json_format=settings.logging.json_format)
    try:
        return dispatch(args, settings)
    except Exception as exc:  # a storage fault becomes one Chinese message (app/fault_messages.py); a bug re-raises
        from app.fault_messages import report_fault

        code = report_fault(exc, settings=settings, command=args.command, debug=args.debug)
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
