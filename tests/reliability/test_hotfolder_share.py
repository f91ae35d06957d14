"""A hot-folder share that disappears and comes back (a network share dropping, a camera's card
pulled): the daemon reports it, and takes the files written after it is back."""
import shutil

from bench.crash_campaign import Daemon, check_home, export_problems


def test_hot_folder_share_gone_and_back(scanned_book, tmp_path):
    # Polling, as for a network share (inotify sees nothing there); the folder is looked for the same
    # way in both modes.
    daemon = Daemon(tmp_path / "station", tmp_path / "home", poll=True)
    shutil.copytree(scanned_book.template, daemon.home)
    names = scanned_book.names
    daemon.start()
    try:
        for name in names[:2]:
            shutil.copy2(scanned_book.captures / name, daemon.hot / name)
        daemon.until(lambda: daemon.done_files() == names[:2])

        away = daemon.hot.rename(daemon.root / "hot-unmounted")
        event = daemon.until(lambda: next((e for e in daemon.get("/api/events")["events"]
                                           if e["kind"] == "disconnected"), None))
        assert str(daemon.hot) in event["message"]

        away.rename(daemon.hot)
        for name in names[2:]:
            shutil.copy2(scanned_book.captures / name, daemon.hot / name)
        daemon.until(lambda: daemon.book_done(scanned_book))
    finally:
        code = daemon.stop()
    assert code in (0, -15)
    assert daemon.done_files() == sorted(names)
    assert check_home(scanned_book, daemon.home) == []
    assert export_problems(scanned_book, daemon.home, tmp_path / "export") == []
