#!/usr/bin/python3
"""Checks what `zcopy bench` wrote to OUT: results.json against results.schema.json, every plot
file present and non-empty, report.html free of outside references, the ledger check, and that
each part that ran set its methods beside their peers (COMPARED) or said why a method is missing.

    /usr/bin/python3 bench/report/check_results.py OUT [--expect-disagree METHOD]

Without --expect-disagree, every serve row the ledger check judged must agree (a correct build).
With it, the serve row of METHOD must be flagged "disagrees" and every other serve row agree.
Exits 1 with one line per problem; 77 (skipped) when jsonschema is missing.
"""
import argparse
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    # A missing module skips the test (exit 77), or fails it under ZCOPY_REQUIRE_ALL=1.
    REQUIRE_ALL = os.environ.get("ZCOPY_REQUIRE_ALL", "") not in ("", "0")
    print(f"{sys.executable} has no jsonschema (scripts/install-deps.sh installs "
          f"python3-jsonschema){' (ZCOPY_REQUIRE_ALL=1)' if REQUIRE_ALL else ''}")
    sys.exit(1 if REQUIRE_ALL else 77)


# What each part must compare: bench -> (our methods, peer methods). A peer may be missing from a
# machine, but then its part says so in a note ("METHOD is not measured: why"), and a part never
# says so of a method it did measure.
COMPARED = {
    "channel-throughput": (["zcopy", "zcopy-batch"], ["iceoryx", "unix", "pipe", "boost-mq"]),
    "channel-latency": (["zcopy-busy", "zcopy-wake"], ["iceoryx-busy", "iceoryx-wake", "unix",
                                                       "pipe"]),
    "xdp-receive": (["af_xdp"], ["af_packet", "recvmmsg"]),
    "frame-handoff": (["flip"], ["memcpy compositor"]),
}


def peer_problems(results):
    problems = []
    ran = {p["module"]: p for p in results.get("parts", []) if p["status"] == "ran"}
    for bench, (ours, peers) in COMPARED.items():
        module = bench.split("-")[0]
        if module not in ran:
            continue
        notes = " | ".join(ran[module]["notes"])
        rows = [m for m in results["measurements"] if m["bench"] == bench]
        for method in ours + peers:
            side = "ours" if method in ours else "peer"
            measured = [m for m in rows if m["method"] == method]
            excused = f"{method} is not measured:" in notes
            if measured and excused:
                problems.append(f"{bench} {method}: measured, yet a note says it is not")
            if not measured and not excused:
                problems.append(f"{bench} {method}: no row and no note saying why")
            for m in measured:
                if m["side"] != side:
                    problems.append(f"{bench} {method}: side {m['side']}, expected {side}")
                if side == "ours" and any(r["method"] in peers for r in rows) and not m.get("versus"):
                    problems.append(f"{bench} {method}: not compared with any peer")
    return list(dict.fromkeys(problems))  # one line per problem, not one per size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--expect-disagree", default="")
    args = parser.parse_args()
    problems = []
    schema_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.schema.json")
    with open(schema_path) as f:
        schema = json.load(f)
    with open(os.path.join(args.out, "results.json")) as f:
        results = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    for error in validator.iter_errors(results):
        problems.append(f"schema: {'/'.join(map(str, error.path))}: {error.message}")

    for part in results.get("parts", []):
        if part["status"] == "failed":
            problems.append(f"part {part['module']} failed: {part['reason']}")
    if results.get("plot_error"):
        problems.append(f"plots: {results['plot_error']}")
    if not results.get("plots"):
        problems.append("no plots")
    for plot in results.get("plots", []):
        for key in ("png", "svg"):
            path = os.path.join(args.out, plot[key])
            if not os.path.isfile(path) or os.path.getsize(path) == 0:
                problems.append(f"plot file missing or empty: {plot[key]}")

    with open(os.path.join(args.out, "report.html"), encoding="utf-8") as f:
        html = f.read()
    for match in re.finditer(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""",
                             html, re.IGNORECASE):
        problems.append(f"report.html references something outside: {html[match.start():match.start() + 60]!r}")
    if html.count("data:image/png;base64,") != len(results.get("plots", [])):
        problems.append("report.html does not hold every plot inline")

    serve = [m for m in results["measurements"]
             if m["module"] == "serve" and m["ledger_check"] != "not checked"]
    if not serve:
        problems.append("no serve row had its ledger checked")
    for m in serve:
        expected = "disagrees" if m["method"] == args.expect_disagree else "agrees"
        if m["ledger_check"] != expected:
            problems.append(f"serve {m['method']}: ledger check says {m['ledger_check']}, expected "
                            f"{expected}: {m['ledger_check_detail']}")
    if args.expect_disagree and not any(m["method"] == args.expect_disagree for m in serve):
        problems.append(f"no serve row for {args.expect_disagree}")

    problems += peer_problems(results)

    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"{args.out}: {len(results['measurements'])} measurements, {len(results['plots'])} "
          f"plots, schema and ledger check as expected")


if __name__ == "__main__":
    main()
