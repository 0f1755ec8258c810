"""grommunio_ocf.ocf.status: the OCF 1.1 exit codes and OCFError."""

import pytest

from grommunio_ocf.ocf.status import OCFError, Status

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
    assert Status[name] == code
    assert int(Status(code)) == code


def test_status_has_no_other_codes():
    assert {s.name: int(s) for s in Status} == OCF_1_1_CODES


def test_status_values_cover_0_to_9_and_190_191():
    assert sorted(int(s) for s in Status) == list(range(10)) + [190, 191]


def test_ocf_name_is_what_pacemaker_prints():
    assert Status.NOT_RUNNING.ocf_name == "OCF_NOT_RUNNING"
    assert Status.DEGRADED_PROMOTED.ocf_name == "OCF_DEGRADED_PROMOTED"


def test_unknown_code_is_rejected():
    with pytest.raises(ValueError):
        Status(10)


def test_ocferror_carries_status_and_reason():
    exc = OCFError(Status.ERR_CONFIGURED, "binds: empty")
    assert exc.status is Status.ERR_CONFIGURED
    assert exc.reason == "binds: empty"
    assert isinstance(exc, Exception)
    assert str(exc) == "OCF_ERR_CONFIGURED: binds: empty"


def test_ocferror_converts_plain_int_to_status():
    exc = OCFError(7, "not running")
    assert exc.status is Status.NOT_RUNNING
    assert isinstance(exc.status, Status)


def test_ocferror_rejects_invalid_code():
    with pytest.raises(ValueError):
        OCFError(42, "no such code")


def test_ocferror_can_be_raised_and_caught():
    with pytest.raises(OCFError) as info:
        raise OCFError(Status.FAILED_PROMOTED, "promoted instance failed")
    assert info.value.status == 9
    assert info.value.reason == "promoted instance failed"
