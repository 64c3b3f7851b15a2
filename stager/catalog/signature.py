"""minisign's formats: public keys, secret keys, signatures (https://jedisct1.github.io/minisign/).

Everything here reads and writes the files the ``minisign`` tool reads and writes, so that
``minisign -Vm SHA256SUMS -p workshop.pub`` checks what ``stager catalog sign`` made, and
stager checks what ``minisign -S`` made. The cryptography is not written here: Ed25519 is
the ``cryptography`` package's, BLAKE2b and scrypt are hashlib's.

- public key: ``untrusted comment: ...`` then base64 of ``"Ed" || key id (8) || Ed25519 key (32)``.
- secret key: base64 of ``"Ed" || kdf ("Sc" or two zero bytes) || "B2" || salt (32) ||
  opslimit (8, little-endian) || memlimit (8) || key id (8) || secret key (64) || checksum (32)``;
  with ``Sc`` the last 104 bytes are XORed with scrypt(password, salt) (libsodium's
  ``crypto_pwhash_scryptsalsa208sha256`` with those limits); the checksum is BLAKE2b-256 of
  ``"Ed" || key id || secret key``.
- signature: ``untrusted comment:`` line, base64 of ``alg || key id || Ed25519 signature of
  the file`` (``ED``: of the file's BLAKE2b-512, the default; ``Ed``: of the file itself,
  legacy), ``trusted comment: ...`` line, base64 of the global signature (Ed25519 of the
  signature followed by the trusted comment's bytes).

Parsing errors are :class:`FormatError` (a ``ValueError``); a signature that does not
verify is :class:`BadSignature`. Callers turn them into exit codes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets

from stager.i18n import N_, _
from stager.value import value

SIG_SUFFIX = ".minisig"
_ALG = b"Ed"
_ALG_HASHED = b"ED"
_KDF_SCRYPT = b"Sc"
_KDF_NONE = b"\x00\x00"
_CHK_ALG = b"B2"
UNTRUSTED = "untrusted comment: "
TRUSTED = "trusted comment: "
#: libsodium's crypto_pwhash_scryptsalsa208sha256_{OPS,MEM}LIMIT_SENSITIVE, what minisign -G uses.
OPSLIMIT_SENSITIVE = 33554432
MEMLIMIT_SENSITIVE = 1073741824
_KEYNUM_SK_BYTES = 8 + 64 + 32
_SECKEY_BYTES = 2 + 2 + 2 + 32 + 8 + 8 + _KEYNUM_SK_BYTES


class FormatError(ValueError):
    """A key or signature file that is not minisign's format (the message says what)."""


class BadSignature(Exception):
    """A signature that does not verify; ``code`` is signature-invalid or key-untrusted."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def key_id_text(key_id: bytes) -> str:
    """The key id as minisign prints it (``%016X`` of the little-endian number)."""
    return key_id[::-1].hex().upper()


def _b64(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(_("{what} is not base64").format(what=_(what))) from None
    if len(raw) != size:
        raise FormatError(_("{what} holds {n} bytes, not {size}").format(what=_(what), n=len(raw), size=size))
    return raw


def _lines(text: str) -> list[str]:
    """Lines as minisign's trim() leaves them: the final newline and one carriage return dropped."""
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


# --------------------------------------------------------------------------- public key
@value
class PublicKey:
    key_id: bytes  # 8 bytes
    key: bytes  # the Ed25519 public key, 32 bytes

    @property
    def id(self) -> str:
        return key_id_text(self.key_id)

    def line(self) -> str:
        """The base64 line (what ``minisign -P`` takes)."""
        return base64.b64encode(_ALG + self.key_id + self.key).decode("ascii")

    def file_text(self) -> str:
        return f"{UNTRUSTED}minisign public key {self.id}\n{self.line()}\n"

    @classmethod
    def from_line(cls, text: str) -> PublicKey:
        raw = _b64(text, 42, N_("the public key line"))
        if raw[:2] != _ALG:
            raise FormatError(_("the public key is not an Ed25519 minisign key (it does not start with 'Ed')"))
        return cls(raw[2:10], raw[10:])

    @classmethod
    def from_file_text(cls, text: str) -> PublicKey:
        lines = _lines(text)
        if len(lines) < 2 or not lines[0].startswith(UNTRUSTED[:-1]):
            raise FormatError(_("a minisign public key file has an 'untrusted comment:' line, then the key"))
        return cls.from_line(lines[1])

    def verify_raw(self, signature: bytes, message: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


# --------------------------------------------------------------------------- secret key
def scrypt_params(opslimit: int, memlimit: int) -> tuple[int, int, int]:
    """(N, r, p) from libsodium's opslimit/memlimit, as its scrypt ``pickparams`` chooses them."""
    opslimit, r = max(opslimit, 32768), 8
    by_ops = opslimit < memlimit // 32
    max_n = opslimit // (r * 4) if by_ops else memlimit // (r * 128)
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
        n_log2 += 1
    p = 1 if by_ops else min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF) // r
    return 1 << n_log2, r, p


def _stream(password: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    n, r, p = scrypt_params(opslimit, memlimit)
    need = 128 * r * (n + p + 2) + (1 << 20)
    try:
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=min(need, 2**31 - 1), dklen=_KEYNUM_SK_BYTES)
    except (ValueError, MemoryError) as e:
        raise FormatError(
            _("the key's password derivation (scrypt N={n}, r={r}, p={p}) could not run: {error}").format(
                n=n, r=r, p=p, error=e
            )
        ) from None


def _chk(key_id: bytes, sk: bytes) -> bytes:
    return hashlib.blake2b(_ALG + key_id + sk, digest_size=32).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@value
class SecretKey:
    key_id: bytes
    seed: bytes  # the Ed25519 private key's 32-byte seed
    public: bytes  # its public key, 32 bytes

    @classmethod
    def generate(cls) -> SecretKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat

        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, _no_encryption())
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(secrets.token_bytes(8), seed, public)

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.key_id, self.public)

    def sign_raw(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def file_text(self, password: bytes | None, *, opslimit=OPSLIMIT_SENSITIVE, memlimit=MEMLIMIT_SENSITIVE) -> str:
        """The secret key file; encrypted as minisign does unless ``password`` is None."""
        sk = self.seed + self.public
        body = self.key_id + sk + _chk(self.key_id, sk)
        if password is None:
            head = _ALG + _KDF_NONE + _CHK_ALG + bytes(32) + bytes(16)
            comment = "minisign secret key (not encrypted)"
        else:
            salt = os.urandom(32)
            body = _xor(body, _stream(password, salt, opslimit, memlimit))
            head = (
                _ALG + _KDF_SCRYPT + _CHK_ALG + salt + opslimit.to_bytes(8, "little") + memlimit.to_bytes(8, "little")
            )
            comment = "minisign encrypted secret key"
        return f"{UNTRUSTED}{comment}\n{base64.b64encode(head + body).decode('ascii')}\n"

    @staticmethod
    def is_encrypted(text: str) -> bool:
        return _seckey_bytes(text)[2:4] == _KDF_SCRYPT

    @classmethod
    def from_file_text(cls, text: str, password: bytes | None = None) -> SecretKey:
        raw = _seckey_bytes(text)
        kdf, body = raw[2:4], raw[54:]
        if kdf == _KDF_SCRYPT:
            if password is None:
                raise FormatError(_("the secret key is encrypted: its password is needed"))
            opslimit, memlimit = int.from_bytes(raw[38:46], "little"), int.from_bytes(raw[46:54], "little")
            body = _xor(body, _stream(password, raw[6:38], opslimit, memlimit))
        elif kdf != _KDF_NONE:
            raise FormatError(_("the secret key uses a key derivation minisign does not know"))
        key_id, sk, chk = body[:8], body[8:72], body[72:]
        # minisign checks the checksum of an encrypted key only (it writes zeros in an unencrypted one).
        if (kdf == _KDF_SCRYPT or chk != bytes(32)) and chk != _chk(key_id, sk):
            raise FormatError(
                _("wrong password for that key") if kdf == _KDF_SCRYPT else _("the secret key is damaged")
            )
        key = cls(key_id, sk[:32], sk[32:])
        if _public_of(key.seed) != key.public:
            raise FormatError(_("the secret key is damaged (its two halves do not belong together)"))
        return key


def _seckey_bytes(text: str) -> bytes:
    lines = _lines(text)
    if len(lines) < 2 or not lines[0].startswith(UNTRUSTED[:-1]):
        raise FormatError(_("a minisign secret key file has an 'untrusted comment:' line, then the key"))
    raw = _b64(lines[1], _SECKEY_BYTES, N_("the secret key line"))
    if raw[:2] != _ALG or raw[4:6] != _CHK_ALG:
        raise FormatError(_("not a minisign Ed25519 secret key"))
    return raw


def _public_of(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _no_encryption():
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()


# --------------------------------------------------------------------------- signature
@value
class Signature:
    algorithm: bytes  # b"ED" (prehashed) or b"Ed" (legacy)
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str = "signature from minisign secret key"

    @property
    def key(self) -> str:
        return key_id_text(self.key_id)

    @property
    def prehashed(self) -> bool:
        return self.algorithm == _ALG_HASHED

    def file_text(self) -> str:
        sig = base64.b64encode(self.algorithm + self.key_id + self.signature).decode("ascii")
        glob = base64.b64encode(self.global_signature).decode("ascii")
        return f"{UNTRUSTED}{self.untrusted_comment}\n{sig}\n{TRUSTED}{self.trusted_comment}\n{glob}\n"

    @classmethod
    def from_file_text(cls, text: str) -> Signature:
        lines = _lines(text)
        if len(lines) < 4:
            raise FormatError(_("a minisign signature has four lines"))
        if not lines[0].startswith(UNTRUSTED):
            raise FormatError(_("line 1 does not start with '{start}'").format(start=UNTRUSTED.strip()))
        raw = _b64(lines[1], 74, N_("line 2 (the signature)"))
        if raw[:2] not in (_ALG, _ALG_HASHED):
            raise FormatError(_("line 2 is not an Ed25519 signature ('ED' or 'Ed')"))
        if not lines[2].startswith(TRUSTED):
            raise FormatError(_("line 3 does not start with '{start}'").format(start=TRUSTED.strip()))
        glob = _b64(lines[3], 64, N_("line 4 (the global signature)"))
        return cls(raw[:2], raw[2:10], raw[10:], lines[2][len(TRUSTED) :], glob, lines[0][len(UNTRUSTED) :])


def _utf8(text: str) -> bytes:
    """A comment's bytes as read (undecodable bytes kept through surrogateescape)."""
    return text.encode("utf-8", "surrogateescape")


def text_of(data: bytes) -> str:
    """A key or signature file's bytes as text for the parsers here (no byte lost)."""
    return data.decode("utf-8", "surrogateescape")


def _message(data: bytes, prehashed: bool) -> bytes:
    return hashlib.blake2b(data, digest_size=64).digest() if prehashed else data


def sign(data: bytes, key: SecretKey, trusted_comment: str, *, prehashed: bool = True) -> Signature:
    """A minisign signature of ``data`` (prehashed ``ED`` unless ``prehashed=False``)."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise FormatError(_("a trusted comment is one line"))
    sig = key.sign_raw(_message(data, prehashed))
    glob = key.sign_raw(sig + _utf8(trusted_comment))
    return Signature(_ALG_HASHED if prehashed else _ALG, key.key_id, sig, trusted_comment, glob)


def verify(data: bytes, sig: Signature, keys) -> PublicKey:
    """The trusted key that made ``sig`` over ``data``, both the signature and the trusted
    comment checked; else :class:`BadSignature` (``key-untrusted`` or ``signature-invalid``)."""
    key = next((k for k in keys if k.key_id == sig.key_id), None)
    if key is None:
        raise BadSignature(
            _("the signature was made by key {key}, which is not trusted here").format(key=sig.key), "key-untrusted"
        )
    if not key.verify_raw(sig.signature, _message(data, sig.prehashed)):
        raise BadSignature(
            _("the signature by key {key} does not match the file's content").format(key=sig.key), "signature-invalid"
        )
    if not key.verify_raw(sig.global_signature, sig.signature + _utf8(sig.trusted_comment)):
        raise BadSignature(
            _("the trusted comment signed by key {key} was altered").format(key=sig.key), "signature-invalid"
        )
    return key
