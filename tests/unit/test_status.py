"""grommunio_ocf.ocf.status: the OCF 1.1 exit codes and OCFError."""

import pytest

from grommunio_ocf.ocf.status import NAMES, OCFError, Status, checked, ocf_name

OCF_1_1_CODES = {
    "SUCCESS": 0,
    "ERR_GENERIC": 1,
    "ERR_ARGS": 2,
    "ERR_UNIMPLEMENTED": 3,
    "ERR_PERM": 4,
    "ERR_INSTALLED": 5,
    "ERR_CONFIGURED": 6,
    "NOT_RUNNING": 7,
    "RUNNING_PROMOTED": 8,
    "FAILED_PROMOTED": 9,
    "DEGRADED": 190,
    "DEGRADED_PROMOTED": 191,
}


@pytest.mark.parametrize("name,code", sorted(OCF_1_1_CODES.items(), key=lambda kv: kv[1]))
def test_status_has_every_ocf_1_1_code(name, code):
    assert getattr(Status, name) == code
    assert checked(code) == code and type(checked(code)) is int


def test_status_has_no_other_codes():
    assert {name: code for code, name in NAMES.items()} == OCF_1_1_CODES


def test_status_values_cover_0_to_9_and_190_191():
    assert sorted(NAMES) == list(range(10)) + [190, 191]


def test_ocf_name_is_what_pacemaker_prints():
    assert ocf_name(Status.NOT_RUNNING) == "OCF_NOT_RUNNING"
    assert ocf_name(Status.DEGRADED_PROMOTED) == "OCF_DEGRADED_PROMOTED"


def test_unknown_code_is_rejected():
    for bad in (10, -1, True, "0", 0.0, None):
        with pytest.raises(ValueError):
            checked(bad)


def test_ocferror_carries_status_and_reason():
    exc = OCFError(Status.ERR_CONFIGURED, "binds: empty")
    assert exc.status == Status.ERR_CONFIGURED
    assert exc.reason == "binds: empty"
    assert isinstance(exc, Exception)
    assert str(exc) == "OCF_ERR_CONFIGURED: binds: empty"


def test_ocferror_takes_a_plain_int():
    exc = OCFError(7, "not running")
    assert exc.status == Status.NOT_RUNNING and type(exc.status) is int


def test_ocferror_rejects_invalid_code():
    with pytest.raises(ValueError):
        OCFError(42, "no such code")


def test_ocferror_can_be_raised_and_caught():
    with pytest.raises(OCFError) as info:
        raise OCFError(Status.FAILED_PROMOTED, "promoted instance failed")
    assert info.value.status == 9
    assert info.value.reason == "promoted instance failed"
