#!/usr/bin/python3
"""The generated part of docs/PERFORMANCE.md from a `zcopy bench --full` run: the machine, the
rows where zcopy trails its peer, the ledger rule, and one table per module; plots named in
PLOTS (module-bench-kind names as plot.py writes them) are copied to DOCS_DIR/perf and linked.

    /usr/bin/python3 bench/report/performance_md.py OUT/results.json docs [PLOT ...] > part.md
"""
import json
import os
import shutil
import sys


def size_text(n):
    for unit, step in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= step and n % step == 0:
            return f"{n // step} {unit}"
    return f"{n} B" if n else "-"


def nanos(v):
    if v is None:
        return ""
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.1f} µs"
    return f"{v:.0f} ns"


def figure(m):
    if m.get("bytes_per_s") is not None:
        return f"{m['bytes_per_s'] / 1e9:.2f} GB/s"
    if m.get("ops_per_s") is not None:
        return f"{m['ops_per_s'] / 1e6:.3f} M/s"
    if m.get("latency_p50_ns") is not None:
        p99 = nanos(m.get("latency_p99_ns"))
        return f"p50 {nanos(m['latency_p50_ns'])}, p99 {p99}"
    return ""


def cpu(m):
    if m.get("cpu_s_per_gb") is None:
        return ""
    text = f"{m['cpu_s_per_gb']:.3f}"
    if m.get("cpu_user_s_per_gb") is not None:
        text += f" ({m['cpu_user_s_per_gb']:.3f} + {m['cpu_system_s_per_gb']:.3f})"
    if m.get("softirq_s_per_gb"):
        text += f" + softirq {m['softirq_s_per_gb']:.3f}"
    return text


def main():
    results_path, docs = sys.argv[1], sys.argv[2]
    wanted = sys.argv[3:]
    with open(results_path) as f:
        r = json.load(f)
    out_dir = os.path.dirname(os.path.abspath(results_path))
    m = r["machine"]
    print(f"Generated from `zcopy bench --full` ({r['started']}, {r['seconds'] / 60:.0f} min) "
          f"on {m['cpu_model']}, {m['cores']} cores ({m['caches']}), {m['memory']}, "
          f"{m['kernel']}. Load average (1, 5, 15 min) {m['load_at_start']} at the start and "
          f"{m['load_at_end']} at the end: the machine was shared with other work, so absolute "
          f"figures are noisy; every comparison was measured side by side in the same run. "
          f"Hardware counters: {m['hardware_counters']}; kernel function tracing: "
          f"{m['function_tracing']}.\n")
    print("Where zcopy trails its peer in this run:\n")
    for t in r["trailing"]:
        print(f"- {t['module']} {t['bench']} {t['method']} ({size_text(t['size_bytes'])}): "
              f"{t['versus_ratio']:.2f}× {t['versus']}")
    if not r["trailing"]:
        print("- nowhere")
    disagree = [x for x in r["measurements"] if x["ledger_check"] == "disagrees"]
    print(f"\nLedger check: {len(disagree)} row(s) disagree. The rule: {r['ledger_rule']}\n")
    for part in r["parts"]:
        rows = [x for x in r["measurements"] if x["module"] == part["module"]]
        print(f"### {part['module']}: {part['what']}\n")
        if part["status"] != "ran":
            print(f"{part['status']}: {part['reason']}\n")
        if rows:
            print("| bench | method | side | size | figure | CPU s/GB (user + sys) | copies/B "
                  "(ledger) | vs best peer | ledger check | runs, spread |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for x in rows:
                copies = ""
                if x.get("copies_per_byte") is not None:
                    copies = f"{x['copies_per_byte']:.2f} ({x['ledger_source']})"
                versus = ""
                if x.get("versus_ratio") is not None:
                    versus = f"{x['versus_ratio']:.2f}× {x['versus']}"
                extra = ""
                if x.get("memory_per_connection_bytes") is not None:
                    extra = (f", {x['memory_per_connection_bytes']:.0f} B/connection at "
                             f"{x['connections']:.0f}")
                check = "**ledger disagrees**" if x["ledger_check"] == "disagrees" else x[
                    "ledger_check"]
                print(f"| {x['bench']} | {x['method']} | {x['side']} | "
                      f"{size_text(x['size_bytes'])} | {figure(x)}{extra} | {cpu(x)} | {copies} | "
                      f"{versus} | {check} | {x['repetitions']}, {x['spread']:.2f} |")
            print()
        for note in part["notes"]:
            print(f"{note}.\n" if not note.endswith(".") else f"{note}\n")
        for x in rows:
            if x["module"] == "serve" and x["bench"] == "serve-loopback" and x.get("note"):
                print(f"- {x['method']}: {x['note']}")
        if part["module"] == "serve":
            print()
        for plot in r["plots"]:
            name = os.path.splitext(os.path.basename(plot["png"]))[0]
            if plot["module"] != part["module"] or name not in wanted:
                continue
            os.makedirs(os.path.join(docs, "perf"), exist_ok=True)
            shutil.copy(os.path.join(out_dir, plot["png"]), os.path.join(docs, "perf", name + ".png"))
            print(f"![{plot['title']}](perf/{name}.png)\n")


if __name__ == "__main__":
    main()
