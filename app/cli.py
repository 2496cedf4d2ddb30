"""`coach`: the console command. Each subcommand is one line in `coach --help`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app.record_commands import add_record_parser
from app.settings import COLLECTIONS, Settings, SettingsError, load_settings

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coach", description="PocketCoach 随身教练 — 客户经理的随身知识库与测评助手")
    parser.add_argument("--config", type=Path, help="配置文件 (默认 config.toml,或环境变量 COACH_CONFIG)")
    parser.add_argument("--data-dir", type=Path, help="程序写入的所有文件放在这个目录 (或 COACH_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="读取文件或文件夹,清洗、切分后加入知识库 (增量)")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--collection", required=True, choices=COLLECTIONS)
    p.add_argument("--prune", action="store_true", help="移除文件已不存在的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出报告")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("search", help="检索知识库,列出最相关的段落")
    p.add_argument("question", nargs="?")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--collection", action="append", choices=COLLECTIONS, help="只查这个库 (可重复)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch", type=Path, help='JSONL 文件,每行 {"id", "question"}')

    p = sub.add_parser("ask", help="像聊天里一样回答一个问题 (手机长度,附来源)")
    p.add_argument("question", nargs="?")
    p.add_argument("--collection", action="append", choices=COLLECTIONS)
    p.add_argument("--json", action="store_true", help='输出 {"question", "found", "answer", "sources"}')
    p.add_argument(
        "--batch", type=Path, help='JSONL 文件,每行 {"id", "question"};每题输出一行 JSON,有坏行时退出码为 1'
    )

    p = sub.add_parser(
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

    p = sub.add_parser(
        "db", help="数据库维护: upgrade 升级结构 | backup 文件 备份 | restore 文件 --yes 恢复 | prune 清理过期记录"
    )
    p.add_argument("action", choices=["upgrade", "backup", "restore", "prune"])
    p.add_argument("--days", type=int, default=30, help="prune: 删除多少天以前的消息去重记录和按钮 (至少 2)")
    p.add_argument("path", nargs="?", type=Path, help="备份文件 (backup/restore)")
    p.add_argument("--yes", action="store_true", help="restore: 确认用备份覆盖当前数据库")

    p = sub.add_parser("users", help="人员管理: 列出人员、授予角色、生成邀请码")
    users = p.add_subparsers(dest="users_action", required=True, metavar="ACTION")
    users.add_parser("list", help="列出已登记的人员")
    g = users.add_parser("grant", help="授予角色: coach users grant 工号 角色")
    g.add_argument("employee_no")
    g.add_argument("role", help="学员/培训师/主管/管理员 (或 learner/trainer/supervisor/admin)")
    s = users.add_parser("supervise", help="设置主管: coach users supervise 工号 主管工号 (主管工号写 - 表示取消)")
    s.add_argument("employee_no")
    s.add_argument("supervisor_no")
    i = users.add_parser("invite", help="生成邀请码: coach users invite 角色 姓名 工号 地区 级别")
    for name in ("role", "name", "employee_no", "region", "level"):
        i.add_argument(name)

    p = sub.add_parser(
        "quiz", help="测验题库: import 检查 / publish 发布 / list 列表 / retire 下线 / template 模板 / retake 补考"
    )
    quiz = p.add_subparsers(dest="quiz_action", required=True, metavar="ACTION")
    q = quiz.add_parser("import", help="读取并检查测验文件 (--dry-run 不发布)")
    q.add_argument("file", type=Path)
    q.add_argument("--format", choices=["yaml", "xlsx", "gift", "aiken"])
    q.add_argument("--dry-run", action="store_true", help="只检查,不发布")
    q.add_argument("--json", action="store_true")
    q = quiz.add_parser("publish", help="检查并发布测验 (有任何错误则不发布)")
    q.add_argument("file", type=Path)
    q.add_argument("--format", choices=["yaml", "xlsx", "gift", "aiken"])
    quiz.add_parser("list", help="列出已发布的测验")
    q = quiz.add_parser("retire", help="下线测验: coach quiz retire ID")
    q.add_argument("set_id", type=int)
    q = quiz.add_parser("template", help="生成 Excel 题库模板")
    q.add_argument("path", type=Path, nargs="?", default=Path("测验模板.xlsx"))
    q = quiz.add_parser("retake", help="允许某人在本周期补考一次认证测验: coach quiz retake 工号 ID")
    q.add_argument("employee_no")
    q.add_argument("set_id", type=int)

    add_record_parser(sub)

    p = sub.add_parser("report", help="报表: coach report unanswered 列出最近没找到答案的问题")
    p.add_argument("kind", choices=["unanswered"])
    p.add_argument("--limit", type=int, default=50)

    sub.add_parser("run", help="启动聊天: 配置了 TELEGRAM_BOT_TOKEN 时启动 Telegram,否则打开控制台聊天")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    return load_settings(config_path=args.config, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from app.commands import dispatch
    from app.logging_setup import configure_logging

    configure_logging(level=settings.logging.level, json_format=settings.logging.json_format)
    return dispatch(args, settings)


if __name__ == "__main__":
    sys.exit(main())
