"""Quiz YAML is parsed once, with libyaml's parser when PyYAML has it (`make run` publishes every bundled quiz at
each start; issue 12, start-up time), and reads exactly as the pure-Python loader reads it, problems included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from quizzes.formats import yaml_format
from quizzes.formats.yaml_format import parse_yaml_document

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "content" / "quizzes").glob("*.yaml"))
BROKEN = {
    "tab": "title: 测验\nquestions:\n\t- stem: 题目\n",
    "indent": "title: 测验\nquestions:\n  - stem: 题目\n   options: []\n",
    "colon": "title: 测验\nquestions:\n  - stem: 价格:多少: 元\n    kind: single\n",
    "quote": 'title: "测验\nlevel: 初级\n',
    "list": "title: 测验\ncut_scores: [5, 7\n",
    "not a mapping": "- 一\n- 二\n",
    "empty": "",
}

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: one loader only")


def _pure(data: bytes, filename: str, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patched:
        patched.setattr(yaml_format, "_FastLineLoader", None)
        return parse_yaml_document(data, filename=filename)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_a_bundled_quiz_reads_the_same_with_libyaml(path, monkeypatch):
    data = path.read_bytes()
    fast = parse_yaml_document(data, filename=path.name)
    assert fast == _pure(data, path.name, monkeypatch)
    document, problems = fast
    assert problems == [] and document is not None and document["questions"]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_gets_the_pure_loaders_problem_and_line(name, monkeypatch):
    data = BROKEN[name].encode("utf-8")
    assert parse_yaml_document(data, filename="set.yaml") == _pure(data, "set.yaml", monkeypatch)


def test_a_valid_file_is_parsed_by_libyaml_only(monkeypatch):
    """Before, every file was parsed twice by the pure-Python loader (yaml.load, then yaml.compose)."""

    class Refusing(yaml_format._LineLoader):
        def get_single_node(self):  # type: ignore[no-untyped-def]
            raise AssertionError("the pure-Python parser ran on a valid file")

    monkeypatch.setattr(yaml_format, "_LineLoader", Refusing)
    monkeypatch.setattr(yaml, "compose", Refusing.get_single_node)
    document, problems = parse_yaml_document(BUNDLED[0].read_bytes(), filename=BUNDLED[0].name)
    assert problems == [] and document is not None
    assert document[yaml_format.FIELD_LOCATIONS_KEY]["title"].startswith(f"{BUNDLED[0].name}:")
