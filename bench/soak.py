"""Soak: whole calls at a steady load for a long time; memory of every process, errors, counts.

Starts gunicorn, a speech worker and the callback scheduler on a private
PostgreSQL database (bench/load_stack.py), keeps --calls concurrent calls going
(bench/load_calls.py's caller mix, real-time pacing) for --minutes, samples the
RSS of every process (gunicorn's master and each worker apart) every
--sample-seconds, and at the end prints the memory trend, webhook latency,
errors, and call records and tickets counted against what was sent.

"Flat" means: no process grew by more than FLAT_GROWTH between the sample
taken once warm (a quarter into the run, at least WARM_MINUTES in) and the last one.

    .venv/bin/python bench/soak.py                      # 3 minutes (a smoke run)
    .venv/bin/python bench/soak.py --minutes 30 --calls 150
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_calls import LoadGenerator, check_counts, print_paths, summarise  # noqa: E402
from bench.load_stack import Stack, rss_kb  # noqa: E402

FLAT_GROWTH = 0.10  # 10 % between the warm sample and the last one
DEFAULT_CALLS = 150
WARM_MINUTES = 2  # models loaded, pools and caches filled


def sample(stack: Stack) -> dict[str, int]:
    """RSS in KiB of every process; gunicorn workers each on their own."""
    out = {}
    for name, proc in stack.procs.items():
        if not proc.alive:
            continue
        if proc.kind == "web":
            out[f"{name}-master"] = rss_kb(proc.popen.pid) - sum(
                rss_kb(c) for c in stack.children(name)
            )
            for i, child in enumerate(sorted(stack.children(name))):
                out[f"{name}-worker{i + 1}"] = rss_kb(child)
        else:
            out[name] = rss_kb(proc.popen.pid)
    return out


def run(
    minutes: float, calls: int, *, sample_seconds: float = 30, time_scale: float = 1.0, out=print
) -> dict:
    with Stack() as stack:
        base = stack.web(workers=2, threads=8)
        stack.flask("speech", "speech", "speech", "worker", "--threads", "1")
        stack.flask("scheduler", "scheduler", "callbacks", "run")
        out(
            f"soak: {calls} concurrent calls for {minutes:g} min on {base} "
            f"(PostgreSQL {stack.db_name})"
        )
        gen = LoadGenerator(base, stack.public_base_url, scale=time_scale)
        t0 = time.time()
        gen.set_target(calls)
        samples: list[tuple[float, dict]] = []
        end = t0 + minutes * 60
        while time.time() < end:
            samples.append((time.time() - t0, sample(stack)))
            lat, errs = gen.stats.window(time.time() - sample_seconds, time.time())
            row = summarise(lat, errs)
            out(
                f"  {samples[-1][0]:6.0f}s  rss MiB "
                + " ".join(f"{k}={v / 1024:.0f}" for k, v in samples[-1][1].items())
                + f"  | last {sample_seconds:.0f}s: {row['requests']} webhooks, "
                f"p99 {row['p99']} ms, errors {errs}"
            )
            time.sleep(max(0.0, min(sample_seconds, end - time.time())))
        samples.append((time.time() - t0, sample(stack)))
        gen.stop()
        time.sleep(2)
        lat, errs = gen.stats.window(t0, time.time())
        warm_at = min(max(minutes / 4, WARM_MINUTES), minutes / 2) * 60
        warm = next((s for t, s in samples if t >= warm_at), samples[0][1])
        last = samples[-1][1]
        growth = {k: round((last[k] - warm[k]) / warm[k], 3) for k in last if k in warm and warm[k]}
        result = {
            "minutes": minutes,
            "concurrent_calls": calls,
            "webhooks": summarise(lat, errs),
            "counts": check_counts(stack, gen.stats),
            "rss_mib_warm": {k: round(v / 1024, 1) for k, v in warm.items()},
            "rss_mib_last": {k: round(v / 1024, 1) for k, v in last.items()},
            "rss_growth": growth,
            "flat": all(g <= FLAT_GROWTH for g in growth.values()),
            "log_errors": stack.errors_in_logs(),
            "errors": [f"{sid}: {d}" for _, sid, d in gen.stats.errors[:10]],
        }
        print_paths(gen.stats)
        return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    ap.add_argument("--sample-seconds", type=float, default=30)
    ap.add_argument("--time-scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    result = run(
        args.minutes, args.calls, sample_seconds=args.sample_seconds, time_scale=args.time_scale
    )
    print(json.dumps(result, indent=1, ensure_ascii=False))
    ok = result["counts"]["ok"] and result["webhooks"]["errors"] == 0 and result["flat"]
    print("RESULT:", "flat, no error, nothing lost" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
