"""jieba's prefix dictionary as a memory-mapped file in the data folder (start-up time, issue 12): a question is
segmented without loading ~500,000 entries, and the file segments exactly as jieba's own dictionary does."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from knowledge import prefix_dictionary
from knowledge.prefix_dictionary import FILE_NAME, MappedFrequencies
from knowledge.tokenizer import Tokenizer

QUESTIONS = (
    "谈判时怎么让步",
    "客户洞察力的情境模拟测验怎么考?",
    "銷售助理個人工作計劃",
    "隔级领导打分占多少",
    "客户经理的KPI和ARPU值,BPR试点,SLA协议,权重80%",
    "愿景和使命有什么区别",
)


@pytest.fixture(scope="module")
def reference() -> Tokenizer:
    """jieba's own dictionary with the domain terms added, as before."""
    return Tokenizer()


@pytest.fixture(scope="module")
def mapped_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lexical")
    Tokenizer(dictionary_folder=folder).query_terms("预热")  # writes the file
    return folder


def test_a_question_is_segmented_from_the_mapped_file_without_loading_it(mapped_folder, reference):
    def must_not_build() -> tuple[dict[str, int], int]:
        raise AssertionError("the dictionary was built again although the file fits")

    tokenizer = Tokenizer(dictionary_folder=mapped_folder)
    source = prefix_dictionary.open_mapped(mapped_folder / FILE_NAME, source_key=_source(tokenizer))
    assert isinstance(source[0], MappedFrequencies)
    frequencies, _ = prefix_dictionary.load_or_build(mapped_folder, source_key=_source(tokenizer), build=must_not_build)
    assert isinstance(frequencies, MappedFrequencies)
    for question in QUESTIONS:
        assert tokenizer.query_terms(question) == reference.query_terms(question), question
    assert isinstance(tokenizer._jieba.FREQ, MappedFrequencies)  # questions never read it into a dict


def test_the_mapped_file_holds_jiebas_dictionary_with_our_domain_terms(mapped_folder, reference):
    tokenizer = Tokenizer(dictionary_folder=mapped_folder)
    frequencies = tokenizer._jieba.FREQ
    assert isinstance(frequencies, MappedFrequencies)
    assert tokenizer._jieba.total == reference._jieba.total
    assert frequencies.as_dict() == reference._jieba.FREQ
    assert frequencies["客户洞察力"] == reference._jieba.FREQ["客户洞察力"]  # a domain term
    assert "客户洞" in frequencies and frequencies["客户洞"] == 0  # its prefix, as jieba stores prefixes
    assert "不存在的词语组合" not in frequencies and frequencies.get("不存在的词语组合") is None


def test_passages_are_tokenised_from_a_plain_dict_with_the_same_tokens(mapped_folder, reference):
    tokenizer = Tokenizer(dictionary_folder=mapped_folder)
    for text in QUESTIONS:
        assert tokenizer.document_tokens(text) == reference.document_tokens(text)
    assert type(tokenizer._jieba.FREQ) is dict  # bulk tokenising reads the file into a dict once


def test_words_added_at_run_time_are_kept_beside_the_file(mapped_folder):
    tokenizer = Tokenizer(dictionary_folder=mapped_folder)
    tokenizer._jieba.add_word("随身教练", freq=5000)
    assert tokenizer._jieba.FREQ["随身教练"] == 5000
    assert "随身教练" in tokenizer.query_terms("随身教练怎么用").key_words


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "other source", "not ours"])
def test_a_damaged_or_foreign_file_is_rebuilt(tmp_path, mapped_folder, reference, damage):
    folder = tmp_path / "lexical"
    folder.mkdir()
    data = (mapped_folder / FILE_NAME).read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped byte":
        data = data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:]
    elif damage == "other source":
        data = data.replace(b"jieba ", b"jiebb ", 1)
    else:
        data = b"#!/bin/sh\nrm -rf /\n" + data
    (folder / FILE_NAME).write_bytes(data)
    tokenizer = Tokenizer(dictionary_folder=folder)
    assert tokenizer.query_terms(QUESTIONS[1]) == reference.query_terms(QUESTIONS[1])
    assert (folder / FILE_NAME).read_bytes() == (mapped_folder / FILE_NAME).read_bytes()  # written again, whole


def test_a_folder_that_cannot_be_written_still_segments_from_memory(tmp_path, reference):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    tokenizer = Tokenizer(dictionary_folder=blocked / "lexical")
    assert tokenizer.query_terms(QUESTIONS[0]) == reference.query_terms(QUESTIONS[0])
    assert type(tokenizer._jieba.FREQ) is dict


def _source(tokenizer: Tokenizer) -> str:
    from knowledge.tokenizer import _dictionary_source

    return _dictionary_source(tokenizer._jieba)


def test_a_process_that_looks_up_many_words_switches_to_a_dict(mapped_folder, reference, monkeypatch):
    monkeypatch.setattr(prefix_dictionary, "LOOKUPS_BEFORE_DICT", 50)
    tokenizer = Tokenizer(dictionary_folder=mapped_folder)
    for question in QUESTIONS:
        assert tokenizer.query_terms(question) == reference.query_terms(question)
    frequencies = tokenizer._jieba.FREQ
    assert isinstance(frequencies, MappedFrequencies) and frequencies._full == reference._jieba.FREQ


def test_a_hostile_hash_table_makes_lookups_wrong_never_endless(tmp_path):
    """Whoever can write the data folder can fill every slot (with a checksum to match): lookups still end."""
    path = tmp_path / FILE_NAME
    words = {"谈": 10, "谈判": 20, "让": 0, "让步": 5}
    prefix_dictionary.write(path, words, total=35, source_key="test")
    data = bytearray(path.read_bytes())
    at = len(prefix_dictionary.MAGIC)
    version, count, total, blob_length, _, key_length, bits, _ = prefix_dictionary._HEADER.unpack_from(data, at)
    body = at + prefix_dictionary._HEADER.size + key_length
    table = body + 8 * count
    data[table : table + 4 * (1 << bits)] = (0).to_bytes(4, "little") * (1 << bits)  # every slot: entry 0
    crc = zlib.crc32(bytes(data[body:]))

    def claim(longest_probe: int) -> None:
        fields = (version, count, total, blob_length, crc, key_length, bits, longest_probe)
        data[at : at + prefix_dictionary._HEADER.size] = prefix_dictionary._HEADER.pack(*fields)
        path.write_bytes(bytes(data))

    claim(prefix_dictionary.MAX_PROBE)
    frequencies, _ = prefix_dictionary.open_mapped(path, source_key="test")
    assert frequencies.get("让步") is None and "谈判" not in frequencies  # wrong, and answered
    claim(2**31)  # a probe run no table of this size has: the file is not used
    with pytest.raises(prefix_dictionary.DictionaryMismatch):
        prefix_dictionary.open_mapped(path, source_key="test")
