"""ResidualScan on its own: pages in, matching rows and honest counts out (no I/O)."""

from __future__ import annotations

import pytest

from connlog_query.client.scan import FilteredResponse, ResidualScan, scan_page_size
from connlog_query.demo import generate
from connlog_query.models import ConnectionLog, ConnectionLogResponse

LOGS = sorted(generate(seed=3, n_logs=30).connection_logs, key=lambda log: log.connect_time)


def is_ssh(log: ConnectionLog) -> bool:
    return log.type == "ssh"


def page(rows: list[ConnectionLog], count: int, cap: int | None = 2000) -> ConnectionLogResponse:
    return ConnectionLogResponse(connection_logs=rows, count=count, count_cap=cap)


def test_reads_until_enough_rows_match() -> None:
    ssh = [log for log in LOGS if is_ssh(log)]
    assert len(ssh) >= 3
    scan = ResidualScan(is_ssh, page_size=10, want=2)
    requests = []
    while not scan.done:
        limit, offset = scan.next_request()
        requests.append((limit, offset))
        scan.feed(page(LOGS[offset : offset + limit], len(LOGS)))
    result = scan.result(2, 0)
    assert result.connection_logs == ssh[:2]
    assert result.count >= 2
    assert not result.count_exact
    assert result.scanned == 10 * len(requests)
    hits_after = sum(1 for log in LOGS[result.scanned :] if is_ssh(log))
    assert result.count_max == result.count + (len(LOGS) - result.scanned)
    assert result.count + hits_after <= result.count_max


def test_exact_at_the_end_and_repeated_rows_count_once() -> None:
    scan = ResidualScan(is_ssh, page_size=20)
    scan.feed(page(LOGS[:20], 31))
    # A row inserted at the top pushed everything down by one: the first row comes again.
    last = scan.feed(page(LOGS[19:30], 31))
    assert scan.done
    assert last.count_exact
    assert last.scanned == 30
    assert last.count == sum(1 for log in LOGS if is_ssh(log)) == last.count_max


def test_capped_server_count_gives_no_upper_bound() -> None:
    scan = ResidualScan(is_ssh, page_size=10, want=1)
    response = scan.feed(page(LOGS[:10], 2001))
    assert isinstance(response, FilteredResponse)
    assert response.count_max is None
    assert not response.count_exact


def test_result_slices_the_matching_rows() -> None:
    scan = ResidualScan(lambda log: True, page_size=100)
    scan.feed(page(LOGS, len(LOGS)))
    assert scan.result(5, 3).connection_logs == LOGS[3:8]
    assert scan.result(0, 0).connection_logs == LOGS  # limit 0 means 100
    assert scan.result(5, 100).connection_logs == []


@pytest.mark.parametrize(
    ("page_size", "limit", "offset", "expected"),
    [
        (100, 0, 0, 100),
        (100, 10, 0, 100),
        (100, 50, 80, 130),
        (10, 0, 0, 100),
        (2**31 - 1, 5, 5, 2**31 - 1),
    ],
)
def test_scan_page_size(page_size: int, limit: int, offset: int, expected: int) -> None:
    assert scan_page_size(page_size, limit, offset) == expected
