"""The centre's content-addressed store: a file is named by its SHA-256, kept once, read back checked,
private to the centre's user."""
import hashlib
import os
import stat
import time

import pytest

from station.centre.store import STALE_PART_SECONDS, BlobMissingError, DiskStore, HashMismatchError
from station.errors import CentreError


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def _files(store):
    return sorted(p for p in store.objects.rglob("*") if p.is_file())


def test_put_twice_keeps_one_file_named_by_its_hash_and_private(tmp_path):
    store = DiskStore(tmp_path / "store")
    data = b"%PDF-1.7 one registration\n" * 100
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.put(data) == sha
    assert _files(store) == [store.objects / sha[0] / sha[1:3] / sha]
    assert store.exists(sha) and store.get(sha) == data and store.verify(sha)
    assert not list(store.tmp.iterdir())
    assert _mode(_files(store)[0]) == 0o600
    for folder in (store.root, store.objects, store.tmp, store.objects / sha[0], store.objects / sha[0] / sha[1:3]):
        assert _mode(folder) == 0o700, folder


def test_put_file_streams_a_large_file(tmp_path):
    source = tmp_path / "scan.pdf"
    source.write_bytes(os.urandom(3 << 20))   # several chunks
    store = DiskStore(tmp_path / "store")
    sha = store.put_file(source, expected=hashlib.sha256(source.read_bytes()).hexdigest())
    with store.open(sha) as handle:
        assert handle.read() == source.read_bytes()


def test_bytes_of_another_hash_are_refused_and_nothing_is_kept(tmp_path):
    store = DiskStore(tmp_path / "store")
    with pytest.raises(HashMismatchError, match="send the file again"):
        store.put(b"cut short", expected=hashlib.sha256(b"the whole file").hexdigest())
    assert _files(store) == [] and not list(store.tmp.iterdir())


def test_a_damaged_file_is_caught_when_read(tmp_path):
    store = DiskStore(tmp_path / "store")
    sha = store.put(b"page image")
    store.path(sha).write_bytes(b"page imagE")
    assert not store.verify(sha)
    with pytest.raises(HashMismatchError, match="damaged"):
        store.get(sha)


def test_missing_files_and_names_that_are_not_hashes(tmp_path):
    store = DiskStore(tmp_path / "store")
    absent = hashlib.sha256(b"never sent").hexdigest()
    assert not store.exists(absent) and not store.verify(absent)
    with pytest.raises(BlobMissingError):
        store.get(absent)
    for name in ("../../etc/passwd", absent.upper(), absent[:-1], absent + "0"):
        with pytest.raises(CentreError, match="SHA-256"):
            store.exists(name)


def test_a_write_killed_midway_leaves_a_temp_file_removed_later(tmp_path):
    store = DiskStore(tmp_path / "store")
    stale, fresh = store.tmp / "old.part", store.tmp / "new.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"in flight")
    old = time.time() - STALE_PART_SECONDS - 60
    os.utime(stale, (old, old))
    DiskStore(tmp_path / "store")
    assert not stale.exists() and fresh.exists()
