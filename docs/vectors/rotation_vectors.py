# An independent implementation of the token rotation sealing of docs/protocol.md 6.3, written from
# the document with Python's standard library and the `cryptography` package (for AES-256-GCM), that
# prints the rotation test vectors of its section 7.
# Run: python3 docs/vectors/rotation_vectors.py
import hashlib, hmac, struct, base64, zlib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
def lp(b): return struct.pack('>I', len(b)) + b
def hkdf(salt, ikm, info, n=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:n]
def b32(b): return base64.b32encode(b).decode().lower().rstrip('=')
def token_of(secret):
    token = 'tdt_' + b32(secret + struct.pack('>I', zlib.crc32(secret)))
    return token, 'tid_' + b32(hashlib.sha256(b'tether/v1 token id' + token.encode()).digest()[:10])
S = bytes.fromhex('2362a9a734d77ead098528d413f8de9d90762527f05d49d45c1d4962e6cc1744')  # plaintext.session_key
sid = bytes(range(0x60, 0x70))
rotation_id = 'rot_' + bytes(range(16)).hex()
successor, successor_id = token_of(bytes(range(0x80, 0xa0)))
nonce = bytes(range(0x70, 0x7c))
R = hkdf(sid, S, b'tether/v1 rotation key')
A = lp(b'tether/v1 rotate token') + lp(sid) + lp(rotation_id.encode()) + lp(successor_id.encode())
sealed = nonce + AESGCM(R).encrypt(nonce, successor.encode(), A)
print('session_key:', S.hex())
print('session_id:', sid.hex())
print('rotation_id:', rotation_id)
print('successor:', successor)
print('successor_token_id:', successor_id)
print('nonce:', nonce.hex())
print('rotation_key:', R.hex())
print('associated_data:', A.hex())
print('sealed_successor:', sealed.hex())
