"""grommunio_ocf.base.smallfile: a small file read without blocking on a FIFO or swallowing a huge one."""

import os

import pytest

from grommunio_ocf.base import smallfile


def test_a_regular_file_and_its_stat(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"\xffdata")
    data, info = smallfile.read(str(path), 16)
    assert data == b"\xffdata" and info.st_size == 5


def test_exactly_the_limit_is_fine_one_more_is_too_large(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert smallfile.read(str(path), 100)[0] == b"x" * 100
    with pytest.raises(smallfile.TooLarge):
        smallfile.read(str(path), 99)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    with pytest.raises(smallfile.NotRegular):
        smallfile.read(path, 16)


def test_a_directory_and_a_missing_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        smallfile.read(str(tmp_path), 16)
    with pytest.raises(FileNotFoundError):
        smallfile.read(str(tmp_path / "missing"), 16)


def test_no_descriptor_stays_open(tmp_path):
    before = set(os.listdir("/proc/self/fd"))
    os.mkfifo(str(tmp_path / "fifo"))
    for name in ("fifo", ".", "missing"):
        with pytest.raises(OSError):
            smallfile.read(str(tmp_path / name), 16)
    assert set(os.listdir("/proc/self/fd")) == before


def test_judge_opens_and_stats_without_reading(tmp_path, mocker):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    read = mocker.patch("os.read")
    assert smallfile.judge(str(path), 100).st_size == 100
    with pytest.raises(smallfile.TooLarge):
        smallfile.judge(str(path), 99)
    read.assert_not_called()


def test_judge_refuses_what_read_refuses(tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    (tmp_path / "zero").symlink_to("/dev/zero")
    for name, error in (("fifo", smallfile.NotRegular), ("zero", smallfile.NotRegular),
                        (".", IsADirectoryError), ("missing", FileNotFoundError)):
        with pytest.raises(error):
            smallfile.judge(str(tmp_path / name), 16)


def test_judge_a_sparse_file_by_its_size(tmp_path):
    path = tmp_path / "sparse"
    with open(str(path), "wb") as handle:
        handle.truncate(64 << 20)
    with pytest.raises(smallfile.TooLarge):
        smallfile.judge(str(path), 1 << 20)
