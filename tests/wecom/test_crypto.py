"""The callback cipher against the sample values of WeCom's own WXBizMsgCrypt examples (the Python, PHP, C# and
Java samples all carry them: token QDG6eK, the EncodingAESKey below, corp id wx5823bf96d3bd56c7)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from bot.channels.wecom.crypto import (
    BAD_AES_KEY,
    BAD_BUFFER,
    BAD_RECEIVE_ID,
    BAD_SIGNATURE,
    WeComCrypto,
    WeComCryptoError,
    pkcs7_pad,
    pkcs7_unpad,
    signature,
)

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wx5823bf96d3bd56c7"
# 使用示例一:验证回调 URL
VERIFY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
# 使用示例二:对用户回复的消息解密
MESSAGE = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
    "encrypt": (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
        "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+Ltw"
        "Gc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V"
        "2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptD"
        "AVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    ),
}


@pytest.fixture
def crypto() -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, CORP_ID)


def test_the_url_verification_sample_verifies_and_decrypts(crypto: WeComCrypto):
    assert signature(TOKEN, VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"]) == VERIFY["msg_signature"]
    echoed = crypto.open(
        VERIFY["msg_signature"], timestamp=VERIFY["timestamp"], nonce=VERIFY["nonce"], encrypted=VERIFY["echostr"]
    )
    assert echoed == "1616140317555161061"  # the random number WeCom expects echoed back


def test_the_message_sample_decrypts_to_its_xml(crypto: WeComCrypto):
    xml = crypto.open(
        MESSAGE["msg_signature"], timestamp=MESSAGE["timestamp"], nonce=MESSAGE["nonce"], encrypted=MESSAGE["encrypt"]
    )
    fields = {child.tag: child.text for child in ET.fromstring(xml)}
    assert fields == {
        "ToUserName": CORP_ID,
        "FromUserName": "mycreate",
        "CreateTime": "1409659813",
        "MsgType": "text",
        "Content": "hello",
        "MsgId": "4561255354251345929",
        "AgentID": "218",
    }


def test_a_forged_signature_a_changed_ciphertext_and_another_corp_are_refused(crypto: WeComCrypto):
    with pytest.raises(WeComCryptoError) as forged:
        crypto.open("0" * 40, timestamp=MESSAGE["timestamp"], nonce=MESSAGE["nonce"], encrypted=MESSAGE["encrypt"])
    assert forged.value.code == BAD_SIGNATURE
    with pytest.raises(WeComCryptoError) as other_nonce:
        crypto.open(MESSAGE["msg_signature"], timestamp=MESSAGE["timestamp"], nonce="1", encrypted=MESSAGE["encrypt"])
    assert other_nonce.value.code == BAD_SIGNATURE
    other_corp = WeComCrypto(TOKEN, AES_KEY, "ww1436e0e65a779aee")
    with pytest.raises(WeComCryptoError) as wrong_corp:
        other_corp.decrypt(MESSAGE["encrypt"])
    assert wrong_corp.value.code == BAD_RECEIVE_ID
    other_key = WeComCrypto(TOKEN, "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", CORP_ID)
    with pytest.raises(WeComCryptoError):  # garbage after decryption: padding, length or receive id fails
        other_key.decrypt(MESSAGE["encrypt"])


def test_encrypting_as_wecom_does_round_trips_and_pads_to_32_byte_blocks(crypto: WeComCrypto):
    fixed = WeComCrypto(TOKEN, AES_KEY, CORP_ID, random_bytes=lambda n: b"a" * n)
    for message in ["", "你好", "x" * 11, "x" * 12, "<xml>" + "内容" * 500 + "</xml>"]:
        encrypted = fixed.encrypt(message)
        assert len(base64.b64decode(encrypted)) % 32 == 0
        assert crypto.decrypt(encrypted) == message
    assert fixed.encrypt("hello") == fixed.encrypt("hello")  # deterministic with fixed random bytes
    assert crypto.encrypt("hello") != crypto.encrypt("hello")  # 16 fresh random bytes each time


def test_pkcs7_to_32_bytes_and_its_refusals():
    assert pkcs7_pad(b"") == bytes([32]) * 32
    assert pkcs7_pad(b"x" * 31) == b"x" * 31 + b"\x01"
    assert pkcs7_pad(b"x" * 32) == b"x" * 32 + bytes([32]) * 32
    assert pkcs7_unpad(pkcs7_pad(b"abc")) == b"abc"
    for bad in [b"x" * 32, b"x" * 31 + b"\x00", b"x" * 30 + b"\x01\x02", b"x" * 31 + b"\x21"]:
        with pytest.raises(WeComCryptoError) as refused:
            pkcs7_unpad(bad)
        assert refused.value.code == BAD_BUFFER


def test_a_bad_encoding_aes_key_is_named():
    for key in ["short", "!" * 43]:
        with pytest.raises(WeComCryptoError) as bad:
            WeComCrypto(TOKEN, key, CORP_ID).key  # noqa: B018
        assert bad.value.code == BAD_AES_KEY
