"""A real card whose FUSE driver died (ENOTCONN on every access, as a card pulled out
while its driver hangs): prepare finds it by detection and says so, exit 5, no traceback."""

from __future__ import annotations

import errno
import os
import signal
import time

import pytest
from helpers.fuse_driver import driver_pid as _driver_pid

from stager.catalog.demo import build_demo_catalog

pytestmark = pytest.mark.cards


def test_prepare_onto_a_detected_card_whose_driver_died(run_stager, make_card, tmp_path):
    catalog = build_demo_catalog(tmp_path / "catalog")
    card = make_card("fat32")
    os.kill(_driver_pid(card.mountpoint), signal.SIGKILL)
    for _ in range(200):  # until the kernel's attribute cache no longer answers for it
        try:
            os.stat(card.mountpoint)
        except OSError as e:
            assert e.errno in (errno.ENOTCONN, errno.ECONNABORTED), e
            break
        time.sleep(0.05)
    r = run_stager("prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", catalog, "--yes")
    assert "Traceback" not in r.err and "internal error" not in r.err, r
    assert r.code == 5, r
    assert "no longer answers" in r.err, r
