# An independent implementation of docs/protocol.md (Tether protocol version 1), written from the
# document with nothing but Python's standard library, that prints the test vectors of its section 7.
# Run: python3 docs/vectors/protocol_vectors.py
import hashlib, hmac, struct, base64, zlib
def lp(b): return struct.pack('>I', len(b)) + b
def hkdf(salt, ikm, info, n=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:n]
def b32(b): return base64.b32encode(b).decode().lower().rstrip('=')
secret = bytes(range(32))
token = 'tdt_' + b32(secret + struct.pack('>I', zlib.crc32(secret)))
T = token.encode()
pid = 'tid_' + b32(hashlib.sha256(b'tether/v1 token id' + T).digest()[:10])
acct = 'acme-0001'; name = 'builder-1'
K = hkdf(b'tether/v1 token key', T, acct.encode())
Nc = bytes(range(0x20, 0x40)); Ns = bytes(range(0x40, 0x60)); sid = bytes(range(0x60, 0x70))
print('token:', token); print('public_id:', pid); print('token_key:', K.hex())
method = 'tether.delegate.v1.DelegateStream/Connect'
name_u = 'bäckerei-łódź-1'
for prefix, cb in (('plaintext', b''), ('tls', hashlib.sha256(b'example manager certificate').digest())):
    H = hashlib.sha256(lp(b'tether/v1 handshake') + struct.pack('>I', 1) + lp(acct.encode()) + lp(pid.encode())
                       + lp(name.encode()) + lp(Nc) + lp(Ns) + lp(cb)).digest()
    sp = hmac.new(K, lp(b'tether/v1 server proof') + H, hashlib.sha256).digest()
    cp = hmac.new(K, lp(b'tether/v1 client proof') + H, hashlib.sha256).digest()
    S = hkdf(H, K, b'tether/v1 session key')
    if cb: print(prefix + '.channel_binding:', cb.hex())
    print(prefix + '.transcript_hash:', H.hex()); print(prefix + '.server_proof:', sp.hex())
    print(prefix + '.client_proof:', cp.hex()); print(prefix + '.session_key:', S.hex())
    for seq, tag in ((1, 'call_mac'), (2**64 - 2, 'call_mac_high_seq')):
        mac = hmac.new(S, lp(b'tether/v1 call') + lp(sid) + struct.pack('>Q', seq) + lp(method.encode()) + lp(cb), hashlib.sha256).digest()
        print(prefix + '.' + tag + ':', mac.hex())
        print(prefix + '.' + tag + '_metadata:', base64.urlsafe_b64encode(mac).decode().rstrip('='))

H = hashlib.sha256(lp(b'tether/v1 handshake') + struct.pack('>I', 1) + lp(acct.encode()) + lp(pid.encode())
                   + lp(name_u.encode('utf-8')) + lp(Nc) + lp(Ns)
                   + lp(hashlib.sha256(b'example manager certificate').digest())).digest()
print('utf8.delegate_name:', name_u)
print('utf8.delegate_name_hex:', name_u.encode('utf-8').hex())
print('utf8.transcript_hash:', H.hex())
print('utf8.server_proof:', hmac.new(K, lp(b'tether/v1 server proof') + H, hashlib.sha256).hexdigest())
