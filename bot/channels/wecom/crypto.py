"""WeCom's callback encryption (企业微信 回调加解密), with the `cryptography` package.

- the key is the EncodingAESKey (43 characters) + "=" decoded from base64: 32 bytes for AES-256-CBC, and the IV
  is its first 16 bytes;
- the plaintext is 16 random bytes, the message's length (4 bytes, network order), the message, and the receive
  id — the corp id for a self-built app, which we check;
- PKCS#7 padding to a multiple of 32 bytes (not AES's 16): a pad byte of 1–32;
- the signature is the SHA-1 hex digest of token, timestamp, nonce and the ciphertext, sorted and joined.

Tested against the sample values of WeCom's own WXBizMsgCrypt examples (tests/wecom/test_crypto.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BYTES = 32  # WeCom pads to 32-byte blocks, not AES's 16
RANDOM_BYTES = 16


class WeComCryptoError(Exception):
    """A callback that is not WeCom's for this app: bad signature, key, padding or receive id. `code` is WeCom's
    own error number (WXBizMsgCrypt's -400xx) so logs can be compared with its documentation."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


BAD_SIGNATURE = -40001
BAD_AES_KEY = -40004
BAD_RECEIVE_ID = -40005
BAD_CIPHERTEXT = -40007
BAD_BUFFER = -40008


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: SHA-1 over the four values sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def aes_key_from(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind an EncodingAESKey (43 base64 characters)."""
    if len(encoding_aes_key) != 43:
        raise WeComCryptoError(BAD_AES_KEY, "EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise WeComCryptoError(BAD_AES_KEY, "EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise WeComCryptoError(BAD_AES_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block: int = BLOCK_BYTES) -> bytes:
    amount = block - len(data) % block
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block: int = BLOCK_BYTES) -> bytes:
    if not data or len(data) % 16:
        raise WeComCryptoError(BAD_BUFFER, "ciphertext is not whole AES blocks")
    amount = data[-1]
    if not 1 <= amount <= block or data[-amount:] != bytes([amount]) * amount:
        raise WeComCryptoError(BAD_BUFFER, "bad padding")
    return data[:-amount]


@dataclass(frozen=True)
class WeComCrypto:
    """One app's token, key and receive id (the corp id)."""

    token: str
    encoding_aes_key: str
    receive_id: str
    random_bytes: Callable[[int], bytes] = os.urandom  # a seam for tests that need a fixed ciphertext

    @property
    def key(self) -> bytes:
        return aes_key_from(self.encoding_aes_key)

    def check_signature(self, given: str, *, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, given.lower()):
            raise WeComCryptoError(BAD_SIGNATURE, "signature does not match")

    def encrypt(self, message: str) -> str:
        """The base64 ciphertext WeCom would send for `message` (the emulator and passive replies use it)."""
        key = self.key
        body = message.encode("utf-8")
        plain = self.random_bytes(RANDOM_BYTES) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside a ciphertext, after checking its padding, its length and its receive id."""
        key = self.key
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise WeComCryptoError(BAD_CIPHERTEXT, "ciphertext is not base64") from None
        if not data or len(data) % 16:
            raise WeComCryptoError(BAD_CIPHERTEXT, "ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = pkcs7_unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < RANDOM_BYTES + 4:
            raise WeComCryptoError(BAD_BUFFER, "plaintext too short")
        (length,) = struct.unpack(">I", plain[RANDOM_BYTES : RANDOM_BYTES + 4])
        start = RANDOM_BYTES + 4
        if start + length > len(plain):
            raise WeComCryptoError(BAD_BUFFER, "message length past the plaintext")
        body, receive_id = plain[start : start + length], plain[start + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WeComCryptoError(BAD_RECEIVE_ID, "receive id is not this corp id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeComCryptoError(BAD_BUFFER, "message is not UTF-8") from None

    def open(self, given_signature: str, *, timestamp: str, nonce: str, encrypted: str) -> str:
        """Check the signature, then decrypt (URL verification's echostr, a message's Encrypt)."""
        self.check_signature(given_signature, timestamp=timestamp, nonce=nonce, encrypted=encrypted)
        return self.decrypt(encrypted)
