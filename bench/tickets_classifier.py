"""Accuracy of the keyword classifier (tickets/rules.yaml) on the labelled request set.

    .venv/bin/python bench/tickets_classifier.py [--errors]

Prints accuracy per field (demand type, topic, department) and per-class recall on
the tuning set (the rules were written looking at it) and on the held-out set
(never used for tuning: the honest figure); with --errors, every miss. The expected
department is the labelled one, or the routing table's for the labelled topic/district.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tickets.classify import classify, load_rules  # noqa: E402
from tickets.routing import load_routing  # noqa: E402
from tickets.yamlfile import load_yaml  # noqa: E402

DATA = ROOT / "bench" / "data" / "labelled_requests.yaml"
HOLDOUT = ROOT / "bench" / "data" / "labelled_requests_holdout.yaml"
FIELDS = ("demand_type", "topic", "department")


def evaluate(path: Path, show_errors: bool) -> None:
    items = load_yaml(path)["requests"]
    rules, table = load_rules(), load_routing()
    hits, totals, misses = Counter(), Counter(), []
    per_class = {f: (Counter(), Counter()) for f in FIELDS}
    started = time.perf_counter()
    classify("预热 jieba")  # jieba loads its dictionary on first use
    warm = time.perf_counter()
    for item in items:
        expected = {
            "demand_type": item["demand_type"],
            "topic": item["topic"],
            "department": item.get("department")
            or table.department_for(item["topic"], item.get("district")),
        }
        got = classify(item["text"], item.get("district"), rules=rules)
        for f in FIELDS:
            ok = getattr(got, f) == expected[f]
            hits[f] += ok
            totals[f] += 1
            per_class[f][0][expected[f]] += ok
            per_class[f][1][expected[f]] += 1
            if not ok:
                misses.append((f, expected[f], getattr(got, f), item["text"]))
    elapsed = time.perf_counter() - warm
    print(f"labelled requests: {len(items)} ({path.relative_to(ROOT)})")
    for f in FIELDS:
        print(f"{f:12s} accuracy {100.0 * hits[f] / totals[f]:5.1f}%  ({hits[f]}/{totals[f]})")
    print(
        f"classification time: {1000 * elapsed / len(items):.2f} ms per request "
        f"(+{warm - started:.1f} s jieba load)"
    )
    print(
        "recall per demand type: "
        + ", ".join(
            f"{k} {100.0 * per_class['demand_type'][0][k] / n:.0f}% ({n})"
            for k, n in per_class["demand_type"][1].most_common()
        )
    )
    topic_hits, topic_n = per_class["topic"]
    weakest = sorted(topic_n, key=lambda k: topic_hits[k] / topic_n[k])[:5]
    print(
        "weakest topics: "
        + ", ".join(f"{k} {per_class['topic'][0][k]}/{per_class['topic'][1][k]}" for k in weakest)
    )
    if show_errors:
        for f, want, got, text in misses:
            print(f"  {f}: expected {want}, got {got}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list misclassified requests")
    args = parser.parse_args()
    for path in (DATA, HOLDOUT):
        evaluate(path, args.errors)
        print()


if __name__ == "__main__":
    main()
