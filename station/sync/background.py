"""`station run`'s sync: when config.yaml names the centre with this station's token, the daemon syncs at
start and every `centre.every_minutes` after, while scanning goes on. A centre out of reach is only logged
(ids and counts): the station keeps scanning, the dashboard shows when it last reached the centre, and the
next round catches up. One sync at a time a home: a `station sync` run by hand while a round is on is told
so (and the round after it finds nothing left to send)."""
from __future__ import annotations

import logging
import threading

from station.config import LoadedConfig
from station.errors import StationError
from station.sync.client import CentreClient
from station.sync.run import Sync

log = logging.getLogger(__name__)


def wanted(cfg: LoadedConfig) -> bool:
    centre = cfg.settings.centre
    return centre is not None and bool(centre.token)


def sync_forever(cfg: LoadedConfig, sessions, stop: threading.Event) -> None:
    centre = cfg.settings.centre
    while not stop.is_set():
        try:
            report = Sync(sessions, cfg.home, cfg.settings.commune, CentreClient(centre.url, centre.token),
                          retries=3, stop=stop, district=cfg.settings.district).run()
            log.info("synced with the centre: %d books sent, %d files", report.books_sent, report.files_sent)
        except StationError as exc:
            log.warning("sync with the centre not finished: %s", exc.message)
        except Exception:      # never let the sync take the station down
            log.exception("sync with the centre failed")
        stop.wait(centre.every_minutes * 60)
