#!/usr/bin/env python3
"""Prints the ```custom-token-vectors block of docs/protocol.md (section 3.5).

An implementation of protocol.md sections 3.3 and 3.4 for custom tokens that shares no code with
Tether: Argon2id from the reference C library (Debian package libargon2-1, driven through ctypes,
and checked against the reference `argon2` command-line tool wherever the salt can be passed as an
argument), everything else from Python's hashlib, hmac and base64.

    apt-get install -y argon2 && python3 scripts/custom-token-vectors.py
"""
import base64
import ctypes
import ctypes.util
import hashlib
import hmac
import shutil
import struct
import subprocess
import sys

ARGON2_T = 3
ARGON2_M_KIB = 65536
ARGON2_P = 1
ARGON2_LEN = 32

_lib = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
_lib.argon2id_hash_raw.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
                                   ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_void_p, ctypes.c_size_t]


def lp(x: bytes) -> bytes:
    return struct.pack(">I", len(x)) + x


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def b32(x: bytes) -> str:
    return base64.b32encode(x).decode("ascii").lower().rstrip("=")


def argon2id(password: bytes, salt: bytes) -> bytes:
    out = ctypes.create_string_buffer(ARGON2_LEN)
    rc = _lib.argon2id_hash_raw(ARGON2_T, ARGON2_M_KIB, ARGON2_P, password, len(password),
                                salt, len(salt), out, ARGON2_LEN)
    if rc != 0:
        raise RuntimeError("argon2id_hash_raw failed: %d" % rc)
    result = out.raw
    if b"\0" not in salt and shutil.which("argon2"):
        cli = subprocess.run(["argon2", salt, "-id", "-t", str(ARGON2_T), "-k", str(ARGON2_M_KIB),
                              "-p", str(ARGON2_P), "-l", str(ARGON2_LEN), "-r"],
                             input=password, capture_output=True, check=True).stdout.strip()
        if cli.decode("ascii") != result.hex():
            raise RuntimeError("libargon2 through ctypes and the argon2 tool disagree")
        print("salt %s...: the argon2 tool agrees" % salt.hex()[:16], file=sys.stderr)
    else:
        print("salt %s...: libargon2 only (a zero byte cannot be passed as an argument)"
              % salt.hex()[:16], file=sys.stderr)
    return result


def vector(n: int, token: str, account_id: str) -> None:
    t = token.encode("ascii")
    salt = hashlib.sha256(lp(b"tether/v1 custom token") + lp(account_id.encode("utf-8"))).digest()
    m = argon2id(t, salt)
    public_id = "tid_" + b32(hkdf(b"tether/v1 custom token id", m, b"")[:10])
    key = hkdf(b"tether/v1 token key", m, account_id.encode("utf-8"))
    print("%d.token: %s" % (n, token))
    print("%d.account_id: %s" % (n, account_id))
    print("%d.account_id_utf8: %s" % (n, account_id.encode("utf-8").hex()))
    print("%d.salt: %s" % (n, salt.hex()))
    print("%d.argon2id: %s" % (n, m.hex()))
    print("%d.public_id: %s" % (n, public_id))
    print("%d.token_key: %s" % (n, key.hex()))


print("```custom-token-vectors")
print("argon2.version: 19")
print("argon2.iterations: %d" % ARGON2_T)
print("argon2.memory_kib: %d" % ARGON2_M_KIB)
print("argon2.parallelism: %d" % ARGON2_P)
print("argon2.tag_bytes: %d" % ARGON2_LEN)
vector(1, "vector-only:Kx9#vQ2m!Lp7@Zr4$Tn8&Wb3*Hc6^Jd1", "acme-0001")
vector(2, "vector-only:Kx9#vQ2m!Lp7@Zr4$Tn8&Wb3*Hc6^Jd1", "équipe-東京-01")
vector(3, "3f8a9c0d2e7b4a61958c0f1d2b3e4a5c6d7e8f9021324354657687980a1b2c3d", "acme-0001")
print("```")
