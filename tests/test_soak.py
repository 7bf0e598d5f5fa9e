"""The reference server on PostgreSQL under a loopback load: no 5xx, Coder-shaped errors for
malformed requests, no leaked connections or sockets, memory that stops growing.

Runs ``benchmarks/soak_server.py``'s :func:`run_soak` for ``CONNLOG_SOAK_SECONDS`` (default 8;
CI runs it for a minute).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "soak_server.py"
_spec = importlib.util.spec_from_file_location("soak_server", _PATH)
assert _spec is not None
assert _spec.loader is not None
soak = importlib.util.module_from_spec(_spec)
sys.modules["soak_server"] = soak  # dataclasses look their module up while the class is built
_spec.loader.exec_module(soak)

SECONDS = float(os.environ.get("CONNLOG_SOAK_SECONDS", "8"))


def test_server_holds_up_under_load(pg_dsn: str) -> None:
    report = soak.run_soak(SECONDS, concurrency=8, n_logs=2000, dsn=pg_dsn)
    print(report.summary())
    assert report.requests > 0
    assert report.statuses[200] > 0
    assert report.statuses[400] > 0, "malformed and invalid requests were sent"
    assert report.statuses[401] > 0, "requests without a token were sent"
    assert report.server_errors == 0, report.statuses
    assert report.bad_bodies == []
    assert report.db_sessions_before == report.db_sessions_after == 1
    assert report.fds_after <= report.fds_before
    assert report.rss_late_growth_kib < 48 * 1024, report.rss_samples_kib


def test_coder_shape_check_rejects_other_bodies() -> None:
    assert soak._coder_shaped({"message": "x", "validations": [{"field": "q", "detail": "d"}]})
    assert not soak._coder_shaped({"detail": "Not Found"})
    assert not soak._coder_shaped({"message": "x", "extra": 1})
    assert not soak._coder_shaped("Invalid HTTP request received.")
