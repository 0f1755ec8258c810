"""grommunio_ocf.ocf.attrd: attrd_updater run through spawn, errors returned, never raised."""

import os

from grommunio_ocf.ocf import attrd


def fake_updater(tmp_path, monkeypatch, body):
    tool = tmp_path / "attrd_updater"
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    return str(tool)


def test_publish_runs_attrd_updater(tmp_path, monkeypatch):
    fake_updater(tmp_path, monkeypatch, 'printf "%%s " "$@" > %s/args\n' % tmp_path)
    assert attrd.publish("#health-x", "green") is None
    assert (tmp_path / "args").read_text() == "-n #health-x -U green "


def test_a_failure_is_returned_with_its_words(tmp_path, monkeypatch):
    fake_updater(tmp_path, monkeypatch, "echo 'could not connect' >&2; exit 102\n")
    assert attrd.clear("#health-x") == ("attrd_updater -n #health-x -D failed (exit 102): "
                                        "could not connect")


def test_out_of_memory_is_said_so(tmp_path, monkeypatch):
    # GLib's words when an allocation fails under the memory limit.
    fake_updater(tmp_path, monkeypatch,
                 "echo 'GLib-ERROR **: failed to allocate 67108864 bytes' >&2; exit 133\n")
    assert attrd.publish("#health-x", "red") == "attrd_updater ran out of its 32 MB"


def test_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert attrd.clear("#health-x") == "attrd_updater is not installed"
    assert not os.listdir(str(tmp_path))
