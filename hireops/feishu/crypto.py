"""Feishu event crypto: AES-256-CBC bodies and the X-Lark-Signature digest.

The algorithm is Feishu's (docs/feishu.md §5.2): key = SHA256(encrypt_key),
wire = base64(iv || AES-CBC(PKCS#7(plaintext))), signature =
hex(sha256((timestamp + nonce + encrypt_key) + raw_body)). The webhook uses
``decrypt``/``verify_signature``; the sandbox uses ``encrypt``/``sign`` to push
events exactly as Feishu does.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 16


class DecryptError(ValueError):
    """The ``encrypt`` field is not something this key produced."""


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


@functools.lru_cache(maxsize=8)
def _aes(encrypt_key: str) -> algorithms.AES:
    """The cipher of a key, made once: every delivery is decrypted with the same few keys
    (the app's, a store app's), and the digest and the object were 4 % of the ingest's CPU."""
    return algorithms.AES(_key(encrypt_key))


def encrypt(plaintext: str, encrypt_key: str) -> str:
    iv = os.urandom(_BLOCK)
    padder = padding.PKCS7(_BLOCK * 8).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(_aes(encrypt_key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt(encrypted: str, encrypt_key: str) -> str:
    """Decrypt an ``encrypt`` field; strict PKCS#7 like the official SDK."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DecryptError("not valid base64") from exc
    if len(raw) < 2 * _BLOCK or len(raw) % _BLOCK:
        raise DecryptError("ciphertext has the wrong length")
    decryptor = Cipher(_aes(encrypt_key), modes.CBC(raw[:_BLOCK])).decryptor()
    padded = decryptor.update(raw[_BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK * 8).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode("utf-8")
    except ValueError as exc:  # bad padding or not UTF-8: wrong key or corrupted body
        raise DecryptError("does not decrypt with the configured key") from exc


def sign(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + raw_body).hexdigest()


def verify_signature(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes, signature: str) -> bool:
    expected = sign(timestamp, nonce, encrypt_key, raw_body)
    return hmac.compare_digest(expected.encode("ascii"), (signature or "").encode("ascii", "replace"))
