#!/usr/bin/env python3
"""Writes OUT/report.html for a ci/fuzz.sh run: the summary table, coverage and exec/s over time
per allocator (from libFuzzer's status lines), and for each violation its trace, heap map,
report and GoogleTest. Self-contained (inline SVG plots, links relative to OUT).

usage: report.py OUT   (OUT/summary.tsv: the run's summary rows, as ci/fuzz.sh writes them)
"""
import html
import os
import re
import sys

STATUS = re.compile(r"^#(\d+)\t\S+\s+cov: (\d+) .*?exec/s: (\d+)")


def series(log_path):
    """(seconds, cov, exec/s) points from libFuzzer's status lines; time = runs / exec/s."""
    points = []
    try:
        with open(log_path, errors="replace") as log:
            for line in log:
                m = STATUS.match(line)
                if m:
                    runs, cov, eps = (int(g) for g in m.groups())
                    if eps > 0:
                        points.append((runs / eps, cov, eps))
    except OSError:
        pass
    return points


def plot(points, index, label, colour):
    """A small line plot of points[i][index] over points[i][0], as inline SVG."""
    w, h, pad = 320, 120, 34
    if len(points) < 2:
        return f'<svg class="plot" width="{w}" height="{h}"><text x="10" y="60" font-size="11">' \
               f"{html.escape(label)}: too few status lines</text></svg>"
    xs = [p[0] for p in points]
    ys = [p[index] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), 0, max(ys) or 1
    sx = lambda x: pad + (x - x0) / ((x1 - x0) or 1) * (w - pad - 8)
    sy = lambda y: h - 18 - (y - y0) / ((y1 - y0) or 1) * (h - 34)
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    return (f'<svg class="plot" width="{w}" height="{h}" font-family="sans-serif">'
            f'<rect width="{w}" height="{h}" fill="#fafafa" stroke="#ddd"/>'
            f'<text x="{pad}" y="12" font-size="11">{html.escape(label)} (max {y1})</text>'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'<line x1="{pad}" y1="{h - 18}" x2="{w - 8}" y2="{h - 18}" stroke="#999"/>'
            f'<text x="{pad}" y="{h - 5}" font-size="10">0 s</text>'
            f'<text x="{w - 60}" y="{h - 5}" font-size="10">{x1:.0f} s</text></svg>')


def main(out):
    rows = []
    with open(os.path.join(out, "summary.tsv")) as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) >= 9:
                rows.append(cells)
    regressions = sorted(os.listdir(os.path.join(out, "regressions"))) \
        if os.path.isdir(os.path.join(out, "regressions")) else []
    head = ["allocator", "runs", "exec/s", "~ops/s", "cov", "corpus", "null%", "violations"]
    parts = ["<!doctype html><html><head><meta charset=\"utf-8\"><title>shadowheap fuzzing report"
             "</title><style>body{font-family:sans-serif;margin:20px}table{border-collapse:"
             "collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "td:first-child{text-align:left}.bad{background:#f8d7da}.plots svg{margin-right:8px}"
             "</style></head><body><h1>shadowheap fuzzing report</h1>",
             "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for cells in rows:
        bad = cells[8] not in ("0", "")
        parts.append(f'<tr class="{"bad" if bad else ""}"><td><a href="#{html.escape(cells[1])}">'
                     f"{html.escape(cells[0])}</a></td>" +
                     "".join(f"<td>{html.escape(c)}</td>" for c in cells[2:9]) + "</tr>")
    parts.append("</table>")
    for cells in rows:
        name, key = cells[0], cells[1]
        points = series(os.path.join(out, "logs", key + ".log"))
        parts.append(f'<h2 id="{html.escape(key)}">{html.escape(name)}</h2><div class="plots">' +
                     plot(points, 1, "coverage", "#1f77b4") +
                     plot(points, 2, "exec/s", "#2ca02c") + "</div>")
        if os.path.isfile(os.path.join(out, "coverage", key, "index.html")):
            parts.append(f'<p><a href="coverage/{html.escape(key)}/index.html">line coverage of '
                         f"{html.escape(name)}'s own code</a> (ci/fuzz.sh --coverage)</p>")
        mine = [f for f in regressions if f.startswith(key + "-") and f.endswith(".trace")]
        if not mine:
            parts.append("<p>no violation</p>")
        for trace in mine:
            stem = trace[:-len(".trace")]
            links = [f'<a href="regressions/{html.escape(trace)}">trace</a>']
            for suffix, what in ((".svg", "heap map"), (".txt", "report")):
                if stem + suffix in regressions:
                    links.append(f'<a href="regressions/{html.escape(stem + suffix)}">{what}</a>')
            test = f"{key}_{stem[len(key) + 1:]}_test.cc"  # as ci/fuzz.sh names it
            if test in regressions:
                links.append(f'<a href="regressions/{html.escape(test)}">GoogleTest</a>')
            kind = ""
            try:
                with open(os.path.join(out, "regressions", stem + ".txt"), errors="replace") as r:
                    m = re.search(r"^shadowheap: VIOLATION (\S+)", r.read(), re.M)
                    kind = m.group(1) if m else ""
            except OSError:
                pass
            parts.append(f"<h3>{html.escape(kind or 'violation')}: {html.escape(stem)}</h3><p>" +
                         " · ".join(links) + "</p>")
            if stem + ".svg" in regressions:
                parts.append(f'<img src="regressions/{html.escape(stem)}.svg" width="900" '
                             f'alt="heap map of {html.escape(stem)}">')
    parts.append("</body></html>\n")
    path = os.path.join(out, "report.html")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    print(f"report: {os.path.abspath(path)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
