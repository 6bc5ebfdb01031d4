"""Benchmark: live DNS refresh of many SES setups against a local authoritative server.

Measures, in the same run and against the same server, (a) the service's refresh path
(``SesSetupService.check_records`` over SesSetup rows, then ``apply_check`` storing results
and scheduling the next check, as the re-check job does; the database write is left out)
and (b) plain dnspython resolving the same (name, type) pairs concurrently with no matching.
Reports medians and ratio = baseline / ours (goal >= 0.8); ``verify_s`` is ``verify_records``
alone, for reference.

    .venv/bin/python bench/dns_refresh.py [--setups 1000] [--rounds 5] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

# Run as a plain script: make `switchboard` and `tests.support` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dns.asyncresolver
import dns.nameserver

from switchboard.core.config import Settings
from switchboard.email.dns_records import DnsRecord, expected_records
from switchboard.email.dns_verify import make_resolver, verify_records
from switchboard.email.service import SesSetupService, apply_check, record_json
from switchboard.models import SesSetup
from switchboard.models.base import utcnow
from tests.support.dns_server import LocalDnsServer

RRsets = list[tuple[str, str, list[str]]]


def build_setups(count: int) -> list[list[DnsRecord]]:
    return [
        expected_records(
            f"customer{i}.example.com",
            [f"{i:06d}tok{j}dkimselector{i:010d}" for j in range(3)],
            "us-east-1",
            dmarc_rua=f"dmarc@customer{i}.example.com",
        )
        for i in range(count)
    ]


def rrsets_for(setups: list[list[DnsRecord]]) -> RRsets:
    return [(r.address, r.type, [r.record]) for records in setups for r in records]


def _serve(rrsets: RRsets, conn: Connection) -> None:
    # Child process: its own CPU, so the server does not share the GIL with the clients.
    with LocalDnsServer() as server:
        server.set_many(rrsets)
        conn.send(server.port)
        conn.recv()  # block until the parent says stop


class ServerHandle:
    """The local DNS server in a child process (default) or a thread of this one."""

    def __init__(self, rrsets: RRsets, mode: str) -> None:
        self.mode = mode
        self._server: LocalDnsServer | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        if mode == "thread":
            self._server = LocalDnsServer().start()
            self._server.set_many(rrsets)
            self.port = self._server.port
        else:
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(rrsets, child), daemon=True)
            self._process.start()
            self._conn = parent
            self.port = int(parent.recv())

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._conn is not None and self._process is not None:
            self._conn.send("stop")
            self._process.join(timeout=10)


def build_rows(setups: list[list[DnsRecord]]) -> list[SesSetup]:
    return [
        SesSetup(
            domain_identity=records[-1].address,
            tenant_name=f"tenant{i}",
            dns_records=[record_json(r) for r in records],
            dns_verified=False,
            check_failures=0,
        )
        for i, records in enumerate(setups)
    ]


async def run_service(rows: list[SesSetup], port: int, timeout: float, concurrency: int) -> float:
    service = SesSetupService(Settings(dns_nameservers=f"127.0.0.1:{port}", dns_timeout=timeout))
    limiter = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    results = await service.check_records(rows, limiter=limiter)
    now = utcnow()
    for row, checked in zip(rows, results, strict=True):
        apply_check(row, checked, now)
    elapsed = time.perf_counter() - started
    failed = [r for row in rows for r in row.dns_records if not r["verified"]]
    if failed:
        raise RuntimeError(f"{len(failed)} records failed, e.g. {failed[0]['reason']}")
    return elapsed


async def run_verify(setups: list[list[DnsRecord]], port: int, timeout: float, concurrency: int) -> float:
    resolver = make_resolver([("127.0.0.1", port)], timeout)
    limiter = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(verify_records(records, resolver, timeout, limiter=limiter) for records in setups)
    )
    elapsed = time.perf_counter() - started
    failed = [r for records in results for r in records if not r.verified]
    if failed:
        raise RuntimeError(f"{len(failed)} records failed, e.g. {failed[0].reason}")
    return elapsed


async def run_baseline(
    pairs: Sequence[tuple[str, str]], port: int, timeout: float, concurrency: int
) -> float:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port)]
    resolver.timeout = timeout
    resolver.lifetime = timeout
    limiter = asyncio.Semaphore(concurrency)

    async def one(name: str, rdtype: str) -> None:
        async with limiter:
            await resolver.resolve(name, rdtype, raise_on_no_answer=False, lifetime=timeout)

    started = time.perf_counter()
    await asyncio.gather(*(one(name, rdtype) for name, rdtype in pairs))
    return time.perf_counter() - started


async def bench(args: argparse.Namespace) -> dict[str, object]:
    setups = build_setups(args.setups)
    pairs = [(r.address, r.type) for records in setups for r in records]
    rows = build_rows(setups)
    server = ServerHandle(rrsets_for(setups), args.server)
    try:
        # Warm-up (not timed): sockets, imports, and the server's answer cache.
        await run_service(rows, server.port, args.timeout, args.concurrency)
        await run_verify(setups, server.port, args.timeout, args.concurrency)
        await run_baseline(pairs, server.port, args.timeout, args.concurrency)
        ours: list[float] = []
        verify: list[float] = []
        baseline: list[float] = []
        for round_no in range(args.rounds):
            # Rotate which side goes first so drift (thermal, caches) hits all alike.
            sides = ["ours", "baseline", "verify"]
            order = sides[round_no % 3 :] + sides[: round_no % 3]
            for side in order:
                gc.collect()
                if side == "ours":
                    ours.append(await run_service(rows, server.port, args.timeout, args.concurrency))
                elif side == "verify":
                    verify.append(await run_verify(setups, server.port, args.timeout, args.concurrency))
                else:
                    baseline.append(await run_baseline(pairs, server.port, args.timeout, args.concurrency))
    finally:
        server.stop()
    ours_median = statistics.median(ours)
    baseline_median = statistics.median(baseline)
    # Each round's two runs are adjacent in time, so their ratio shrugs off slow drift
    # from other load on the machine; reported next to the ratio of medians.
    paired = statistics.median(b / o for b, o in zip(baseline, ours, strict=True))
    return {
        "setups": args.setups,
        "queries": len(pairs),
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "server": args.server,
        "ours_s": [round(t, 4) for t in ours],
        "baseline_s": [round(t, 4) for t in baseline],
        "ours_median_s": round(ours_median, 4),
        "verify_s": [round(t, 4) for t in verify],
        "verify_median_s": round(statistics.median(verify), 4),
        "baseline_median_s": round(baseline_median, 4),
        "ours_qps": round(len(pairs) / ours_median),
        "baseline_qps": round(len(pairs) / baseline_median),
        "ratio": round(baseline_median / ours_median, 3),
        "paired_ratio_median": round(paired, 3),
        "goal": 0.8,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--setups", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=200, help="in-flight queries, same for both sides")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(
        f"dns_refresh: {result['setups']} setups / {result['queries']} queries, "
        f"ours median {result['ours_median_s']}s, baseline median {result['baseline_median_s']}s, "
        f"ratio baseline/ours = {result['ratio']} (paired {result['paired_ratio_median']}; goal >= 0.8)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
