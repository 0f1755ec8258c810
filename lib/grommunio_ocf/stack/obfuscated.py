"""gromox's obfuscated password forms, decoded in this process.

gromox accepts, in place of ``mysql_password`` (and ``ldap_bind_pass``):

* ``..._mode_id555``: base64 of SSSD's obfuscation format (``sss_obf_reverse``
  in gromox's ``lib/cryptoutil.cpp``): a little-endian 16-bit method (0 =
  AES-256-CBC), two more bytes, the 32-byte key, the 16-byte IV, the
  ciphertext (PKCS#7 padded), then the bytes 00 01 02 03;
* ``..._mode_id107``: base64 of zstd-compressed text (``zstd_decompress``).

Both are decoded with the system's own libraries through ``ctypes``: AES
with the libcrypto that Python's ``ssl`` module has already loaded, zstd with
libzstd when it is installed.  Nothing goes through a command line, where
key, ciphertext or password would be visible in ``/proc``.  Like gromox, the
password ends at its first NUL byte (it is used as a C string).

Errors name the key and what is wrong, never any part of the secret.
"""

import binascii

SENTINEL = b"\x00\x01\x02\x03"
KEY_SIZE, IV_SIZE, HEADER = 32, 16, 4
MAX_PLAIN = 1 << 16  # a password; never let a crafted frame inflate to megabytes


class DecodeError(Exception):
    """The obfuscated password cannot be decoded; ``str()`` names the key."""


def decode(key, text):
    """The password held by ``key`` (one of the ``*_mode_id*`` keys), as text."""
    try:
        blob = binascii.a2b_base64(text.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        raise DecodeError("%s is not base64" % key) from None
    if key.endswith("_mode_id555"):
        plain = _sss_reverse(key, blob)
    elif key.endswith("_mode_id107"):
        plain = _zstd(key, blob)
    else:
        raise DecodeError("%s: unknown password mode" % key)
    return plain.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _sss_reverse(key, blob):
    if len(blob) < HEADER + KEY_SIZE + IV_SIZE + len(SENTINEL) or not blob.endswith(SENTINEL):
        raise DecodeError("%s is not in SSSD's obfuscation format (too short or no "
                          "end marker)" % key)
    method = int.from_bytes(blob[:2], "little")
    if method != 0:
        raise DecodeError("%s uses obfuscation method %d; only 0 (AES-256-CBC) exists"
                          % (key, method))
    aes_key = blob[HEADER:HEADER + KEY_SIZE]
    iv = blob[HEADER + KEY_SIZE:HEADER + KEY_SIZE + IV_SIZE]
    ciphertext = blob[HEADER + KEY_SIZE + IV_SIZE:-len(SENTINEL)]
    try:
        return _aes_256_cbc_decrypt(aes_key, iv, ciphertext)
    except _CryptoError as exc:
        raise DecodeError("%s cannot be decrypted: %s" % (key, exc)) from None


class _CryptoError(Exception):
    pass


def _libcrypto():
    """The libcrypto already mapped into this process by Python's ``_ssl``."""
    import ctypes
    import _ssl  # noqa: F401 -- loads libssl and libcrypto (no-op when already loaded)
    path = None
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            name = line.rstrip("\n").rpartition(" ")[2]
            if "/libcrypto" in name and ".so" in name:
                path = name
                break
    try:
        # dlopen() of a mapped library returns that very library; when Python
        # links OpenSSL statically, its symbols are in the process itself.
        lib = ctypes.CDLL(path) if path else ctypes.CDLL(None)
        lib.EVP_CIPHER_CTX_new  # noqa: B018 -- fail here if the symbols are absent
    except (OSError, AttributeError) as exc:
        raise _CryptoError("libcrypto not available to this process (%s)" % exc) from None
    lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
    lib.EVP_CIPHER_CTX_free.argtypes = (ctypes.c_void_p,)
    lib.EVP_aes_256_cbc.restype = ctypes.c_void_p
    lib.EVP_DecryptInit_ex.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                       ctypes.c_char_p, ctypes.c_char_p)
    lib.EVP_DecryptUpdate.argtypes = (ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_int)
    lib.EVP_DecryptFinal_ex.argtypes = (ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.POINTER(ctypes.c_int))
    return lib, ctypes


def _aes_256_cbc_decrypt(key, iv, ciphertext):
    if not ciphertext or len(ciphertext) % 16 or len(ciphertext) > MAX_PLAIN:
        raise _CryptoError("the ciphertext is not a whole number of AES blocks")
    lib, ctypes = _libcrypto()
    ctx = lib.EVP_CIPHER_CTX_new()
    if not ctx:
        raise _CryptoError("EVP_CIPHER_CTX_new failed")
    try:
        out = ctypes.create_string_buffer(len(ciphertext) + 32)
        used, last = ctypes.c_int(0), ctypes.c_int(0)
        if lib.EVP_DecryptInit_ex(ctx, lib.EVP_aes_256_cbc(), None, key, iv) != 1:
            raise _CryptoError("AES-256-CBC is not available")
        if lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(used), ciphertext, len(ciphertext)) != 1:
            raise _CryptoError("decryption failed")
        tail = ctypes.cast(ctypes.addressof(out) + used.value, ctypes.c_void_p)
        if lib.EVP_DecryptFinal_ex(ctx, tail, ctypes.byref(last)) != 1:
            raise _CryptoError("bad padding (wrong key or damaged value)")
        return out.raw[:used.value + last.value]
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)


ZSTD_SONAMES = ("libzstd.so.1", "libzstd.so")


def _zstd(key, blob):
    import ctypes
    lib = None
    for soname in ZSTD_SONAMES:
        try:
            lib = ctypes.CDLL(soname)
            break
        except OSError:
            continue
    if lib is None:
        raise DecodeError("%s needs libzstd, which is not installed on this node "
                          "(package libzstd1 or libzstd)" % key)
    lib.ZSTD_decompress.restype = ctypes.c_size_t
    lib.ZSTD_decompress.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                    ctypes.c_size_t)
    lib.ZSTD_isError.argtypes = (ctypes.c_size_t,)
    lib.ZSTD_getErrorName.restype = ctypes.c_char_p
    lib.ZSTD_getErrorName.argtypes = (ctypes.c_size_t,)
    # One bounded call: a frame that claims (or inflates to) more than
    # MAX_PLAIN bytes fails with "destination buffer is too small".
    out = ctypes.create_string_buffer(MAX_PLAIN)
    size = lib.ZSTD_decompress(out, MAX_PLAIN, blob, len(blob))
    if lib.ZSTD_isError(size):
        raise DecodeError("%s cannot be decompressed: %s" % (
            key, lib.ZSTD_getErrorName(size).decode("ascii", "replace")))
    return out.raw[:size]
