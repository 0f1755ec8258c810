"""grommunio_ocf.stack.obfuscated: gromox's mode_id555 (SSSD AES) and mode_id107 (zstd) passwords.

The values are made the way an admin would make them -- ``openssl enc`` and
the ``zstd`` command -- so the decoder is checked against the real tools,
not against itself.
"""

import base64
import os
import shutil
import subprocess

import pytest

from grommunio_ocf.stack import obfuscated
from grommunio_ocf.stack.obfuscated import DecodeError, decode

SECRET = "S3cr3t pässword!"
ID555 = "mysql_password_mode_id555"
ID107 = "mysql_password_mode_id107"


def sss_blob(plain, method=0, key=None, iv=None):
    """SSSD's format around AES-256-CBC ciphertext made by ``openssl enc``."""
    key = key or os.urandom(32)
    iv = iv or os.urandom(16)
    ciphertext = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
                                input=plain, capture_output=True, check=True).stdout
    return (method.to_bytes(2, "little") + len(ciphertext).to_bytes(2, "little") + key + iv
            + ciphertext + b"\x00\x01\x02\x03")


def id555(plain, **kw):
    return base64.b64encode(sss_blob(plain, **kw)).decode("ascii")


def id107(plain):
    if shutil.which("zstd") is None:
        pytest.skip("the zstd command is not installed")
    return base64.b64encode(subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True,
                                           check=True).stdout).decode("ascii")


def test_id555_made_by_openssl():
    assert decode(ID555, id555(SECRET.encode())) == SECRET


def test_id555_plaintext_ends_at_nul_as_in_gromox():
    # SSSD's own tool encrypts the terminating NUL too; gromox uses a C string.
    assert decode(ID555, id555(SECRET.encode() + b"\0")) == SECRET


def test_id555_with_line_breaks_in_the_base64():
    text = id555(b"pw")
    assert decode(ID555, text[:20] + "\n" + text[20:]) == "pw"


def test_id107_made_by_zstd():
    assert decode(ID107, id107(SECRET.encode())) == SECRET


def test_id107_that_inflates_beyond_the_limit_is_refused():
    with pytest.raises(DecodeError) as info:
        decode(ID107, id107(b"x" * (obfuscated.MAX_PLAIN + 1)))
    assert str(info.value).startswith(ID107 + " cannot be decompressed: ")


@pytest.mark.parametrize("text,message", [
    ("", "is not in SSSD's obfuscation format (too short or no end marker)"),
    ("!!!", "is not in SSSD's obfuscation format (too short or no end marker)"),
    ("ä", "is not base64"),
    (base64.b64encode(b"\0" * 80).decode(), "is not in SSSD's obfuscation format (too short or no end marker)"),
])
def test_id555_garbage(text, message):
    with pytest.raises(DecodeError) as info:
        decode(ID555, text)
    assert str(info.value) == "%s %s" % (ID555, message)


def test_id555_unknown_method():
    with pytest.raises(DecodeError) as info:
        decode(ID555, id555(b"pw", method=1))
    assert str(info.value) == ID555 + " uses obfuscation method 1; only 0 (AES-256-CBC) exists"


def test_id555_damaged_ciphertext_is_bad_padding_not_a_wrong_password():
    blob = bytearray(sss_blob(b"password"))
    blob[4:36] = os.urandom(32)  # another key: the padding check fails
    with pytest.raises(DecodeError) as info:
        decode(ID555, base64.b64encode(bytes(blob)).decode())
    assert str(info.value) == ID555 + " cannot be decrypted: bad padding (wrong key or damaged value)"


def test_id555_cut_ciphertext():
    blob = sss_blob(b"password")
    cut = blob[:-4 - 5] + blob[-4:]
    with pytest.raises(DecodeError) as info:
        decode(ID555, base64.b64encode(cut).decode())
    assert "not a whole number of AES blocks" in str(info.value)


def test_id107_garbage():
    with pytest.raises(DecodeError) as info:
        decode(ID107, base64.b64encode(b"not zstd").decode())
    assert str(info.value).startswith(ID107 + " cannot be decompressed: ")


def test_id107_without_libzstd(mocker):
    mocker.patch.object(obfuscated, "ZSTD_SONAMES", ("libzstd-that-does-not-exist.so.9",))
    with pytest.raises(DecodeError) as info:
        decode(ID107, base64.b64encode(b"x").decode())
    assert str(info.value) == (ID107 + " needs libzstd, which is not installed on this node "
                               "(package libzstd1 or libzstd)")


def test_messages_never_contain_the_secret():
    blob = bytearray(sss_blob(SECRET.encode()))
    blob[40] ^= 0xFF  # damage the IV: the first block decrypts to garbage, padding may pass
    try:
        result = decode(ID555, base64.b64encode(bytes(blob)).decode())
    except DecodeError as exc:
        assert SECRET not in str(exc)
    else:
        assert result != SECRET
