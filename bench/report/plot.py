#!/usr/bin/python3
"""Plots of a `zcopy bench` run: reads results.json, writes PNG and SVG files and index.tsv.

    /usr/bin/python3 bench/report/plot.py OUT/results.json OUT/plots

Run with Debian's python3, which has python3-matplotlib. Per bench, whichever apply:
throughput against size per method with the peers on the same axes (bars when the bench has one
size), CPU seconds per GB as stacked bars (user, system, softirq), copies per byte moved as bars
(marked where the ledger check disagrees), operations per second as bars (lines against size
when the bench has several sizes), and latency distributions (p50, p99, p99.9, max) per method.
index.tsv lists "module<TAB>name<TAB>title" per plot, in the order the report shows them.
"""
import json
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit(f"plot.py: {sys.executable} has no matplotlib (scripts/install-deps.sh installs "
             "python3-matplotlib for /usr/bin/python3)")

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

SIDE_COLOUR = {"ours": "#1f77b4", "peer": "#d62728", "baseline": "#7f7f7f"}
SIDE_HATCH = {"ours": "", "peer": "//", "baseline": ".."}


def size_text(n):
    for unit, step in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= step and n % step == 0:
            return f"{n // step} {unit}"
    return f"{n} B"


def label(row):
    return f"{row['method']} ({row['side']})"


class Plots:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.index = []

    def save(self, fig, module, name, title):
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(self.out_dir, f"{name}.{ext}"), dpi=90)
        plt.close(fig)
        self.index.append((module, name, title))

    def write_index(self):
        with open(os.path.join(self.out_dir, "index.tsv"), "w") as f:
            for module, name, title in self.index:
                f.write(f"{module}\t{name}\t{title}\n")


def methods_in_order(rows):
    seen = []
    for side in ("ours", "baseline", "peer"):
        for r in rows:
            if r["side"] == side and r["method"] not in seen:
                seen.append(r["method"])
    return seen


def one_per_method(rows):
    """The first row of each method: ours, then baselines, then peers."""
    return [next(r for r in rows if r["method"] == m) for m in methods_in_order(rows)]


def bars(ax, names, values, sides, ylabel, log=False):
    xs = range(len(names))
    for x, v, s in zip(xs, values, sides):
        ax.bar(x, v, color=SIDE_COLOUR[s], hatch=SIDE_HATCH[s], edgecolor="black", linewidth=0.5)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


def against_size(ax, rows, sizes, key, scale, ylabel):
    """One line per method of rows[key] / scale against the size, peers dashed."""
    for method in methods_in_order(rows):
        pts = sorted((r["size_bytes"], r[key] / scale, r["side"])
                     for r in rows if r["method"] == method)
        side = pts[0][2]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                linestyle="--" if side == "peer" else ":" if side == "baseline" else "-",
                label=f"{method} ({side})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([size_text(s) for s in sizes], fontsize=8)
    ax.set_xlabel(rows[0].get("size_of", "size"))
    ax.set_ylabel(ylabel)
    values = [r[key] for r in rows if r[key] > 0]
    if values and max(values) > 50 * min(values):
        ax.set_yscale("log")  # small messages would sit flat on the axis
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def throughput(plots, module, bench, rows):
    rows = [r for r in rows if r.get("bytes_per_s") is not None]
    if not rows:
        return
    sizes = sorted({r["size_bytes"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4))
    if len(sizes) > 1:
        against_size(ax, rows, sizes, "bytes_per_s", 1e9, "GB/s")
        title = f"{bench}: throughput against size (dashed: peers)"
    else:
        ordered = one_per_method(rows)
        bars(ax, [label(r) for r in ordered], [r["bytes_per_s"] / 1e9 for r in ordered],
             [r["side"] for r in ordered], "GB/s")
        title = f"{bench}: throughput, {size_text(sizes[0])} (hatched: peers)"
    plots.save(fig, module, f"{module}-{bench}-throughput", title)


def largest_size_rows(rows):
    if not rows:
        return []
    biggest = max(r["size_bytes"] for r in rows)
    return [r for r in rows if r["size_bytes"] == biggest]


def cpu(plots, module, bench, rows):
    rows = largest_size_rows([r for r in rows if r.get("cpu_s_per_gb") is not None])
    if not rows:
        return
    ordered = one_per_method(rows)
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = list(range(len(ordered)))
    user = [r.get("cpu_user_s_per_gb") or 0 for r in ordered]
    system = [r.get("cpu_system_s_per_gb") or 0 for r in ordered]
    total_only = [0 if r.get("cpu_user_s_per_gb") is not None else r["cpu_s_per_gb"]
                  for r in ordered]
    softirq = [r.get("softirq_s_per_gb") or 0 for r in ordered]
    ax.bar(xs, user, label="user", color="#1f77b4")
    ax.bar(xs, system, bottom=user, label="system", color="#ff7f0e")
    base = [u + s for u, s in zip(user, system)]
    if any(total_only):
        ax.bar(xs, total_only, bottom=base, label="user+system", color="#9467bd")
        base = [b + t for b, t in zip(base, total_only)]
    if any(softirq):
        ax.bar(xs, softirq, bottom=base, label="softirq (its CPU)", color="#2ca02c")
    ax.set_xticks(xs)
    ax.set_xticklabels([label(r) for r in ordered], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("CPU seconds per GB")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    size = size_text(ordered[0]["size_bytes"])
    plots.save(fig, module, f"{module}-{bench}-cpu", f"{bench}: CPU seconds per GB, {size}")


def copies(plots, module, bench, rows):
    rows = largest_size_rows([r for r in rows if r.get("copies_per_byte") is not None])
    if not rows:
        return
    ordered = one_per_method(rows)
    fig, ax = plt.subplots(figsize=(7, 4))
    bars(ax, [label(r) for r in ordered], [r["copies_per_byte"] for r in ordered],
         [r["side"] for r in ordered], "CPU copies per byte moved")
    for x, r in enumerate(ordered):
        mark = "ledger disagrees" if r.get("ledger_check") == "disagrees" else r.get(
            "ledger_source", "")
        ax.annotate(mark, (x, r["copies_per_byte"]), ha="center", va="bottom", fontsize=7,
                    color="red" if r.get("ledger_check") == "disagrees" else "black")
    size = size_text(ordered[0]["size_bytes"])
    plots.save(fig, module, f"{module}-{bench}-copies",
               f"{bench}: copies per byte, as each process counted them, {size}")


def operations(plots, module, bench, rows):
    rows = [r for r in rows if r.get("ops_per_s") is not None and r.get("bytes_per_s") is None]
    if not rows:
        return
    sizes = sorted({r["size_bytes"] for r in rows})
    if len(sizes) > 1:
        fig, ax = plt.subplots(figsize=(7, 4))
        against_size(ax, rows, sizes, "ops_per_s", 1, "operations per second")
        plots.save(fig, module, f"{module}-{bench}-ops",
                   f"{bench}: operations per second against size (dashed: peers)")
        return
    ordered = one_per_method(rows)
    fig, ax = plt.subplots(figsize=(7, 4))
    bars(ax, [label(r) for r in ordered], [r["ops_per_s"] for r in ordered],
         [r["side"] for r in ordered], "operations per second")
    extra = ""
    if ordered[0].get("connections"):
        extra = f", {int(ordered[0]['connections'])} connections"
    plots.save(fig, module, f"{module}-{bench}-ops", f"{bench}: operations per second{extra}")


def latency(plots, module, bench, rows):
    rows = [r for r in rows if r.get("latency_p50_ns") is not None]
    if not rows:
        return
    for size in sorted({r["size_bytes"] for r in rows}):
        at = [r for r in rows if r["size_bytes"] == size]
        ordered = one_per_method(at)
        fig, ax = plt.subplots(figsize=(7, 4))
        keys = [("latency_p50_ns", "p50"), ("latency_p99_ns", "p99"),
                ("latency_p999_ns", "p99.9"), ("latency_max_ns", "max")]
        keys = [k for k in keys if any(r.get(k[0]) is not None for r in ordered)]
        width = 0.8 / len(keys)
        for i, (key, name) in enumerate(keys):
            xs = [x + i * width for x in range(len(ordered))]
            ax.bar(xs, [r.get(key) or 0 for r in ordered], width, label=name)
        ax.set_xticks([x + width * (len(keys) - 1) / 2 for x in range(len(ordered))])
        ax.set_xticklabels([label(r) for r in ordered], rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("nanoseconds")
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
        what = f", {size_text(size)}" if size else ""
        plots.save(fig, module, f"{module}-{bench}-{size}-latency",
                   f"{bench}: latency distribution{what}")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULTS.json OUT_DIR")
    with open(sys.argv[1]) as f:
        results = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    plots = Plots(sys.argv[2])
    rows = results["measurements"]
    benches = []
    for r in rows:
        if (r["module"], r["bench"]) not in benches:
            benches.append((r["module"], r["bench"]))
    for module, bench in benches:
        at = [r for r in rows if r["module"] == module and r["bench"] == bench]
        throughput(plots, module, bench, at)
        cpu(plots, module, bench, at)
        copies(plots, module, bench, at)
        operations(plots, module, bench, at)
        latency(plots, module, bench, at)
    plots.write_index()


if __name__ == "__main__":
    main()
