"""Printing the sections as plain-text tables, and saving them as JSON."""
import json
import statistics


def _triple(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def _table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = "  ".join("{:<%d}" % width for width in widths)
    out = [line.format(*headers), line.format(*("-" * width for width in widths))]
    out += [line.format(*(str(cell) for cell in row)) for row in rows]
    return "\n".join(out)


def format_section(section):
    out = [f"## {section.title}"]
    if section.skipped:
        out.append(f"skipped: {section.skipped}")
        return "\n".join(out)
    if section.runs:
        rows = []
        for label, results in section.runs.items():
            rss = [r.rss_kb for r in results if r.rss_kb]
            rows.append([
                label, len(results), _triple([r.rps for r in results], "{:.1f}"),
                _triple([r.p50_ms for r in results], "{:.2f}"), _triple([r.p99_ms for r in results], "{:.2f}"),
                _triple([r.cpu_ms_per_request for r in results], "{:.2f}"),
                sum(r.errors for r in results), f"{max(rss) / 1024:.1f}" if rss else "-",
            ])
        out.append(_table(["variant", "runs", "req/s min/med/max", "p50 ms min/med/max", "p99 ms min/med/max",
                           "worker CPU ms/req min/med/max", "errors", "peak RSS MB"], rows))
    for label, value in section.facts:
        out.append(f"- {label}: {value}")
    for goal in section.goals:
        cpu = f"; from worker CPU/request: {_triple(goal.cpu_values, '{:.3f}')}" if goal.cpu_values else ""
        out.append(f"- goal {goal.name}: {_triple(goal.values, '{:.3f}')} (min/med/max){cpu} "
                   f"target {'≥' if goal.higher_is_better else '≤'} {goal.target:g}{goal.unit.strip()} "
                   f"→ {verdict(goal)}")
    out += [f"- {note}" for note in section.notes]
    return "\n".join(out)


def verdict(goal):
    return {True: "PASS", False: "FAIL", None: "n/a"}[goal.passed]


def format_summary(sections, errors):
    rows = []
    for section in sections:
        for goal in section.goals:
            median = goal.median
            cpu = goal.cpu_median
            rows.append([goal.name, f"{median:.3f}{goal.unit.strip()}" if median is not None else "-",
                         _triple(goal.values, "{:.3f}"),
                         f"{'≥' if goal.higher_is_better else '≤'} {goal.target:g}{goal.unit.strip()}", verdict(goal),
                         f"{cpu:.3f}" if cpu is not None else ""])
        if section.skipped:
            rows.append([section.title, "-", "-", "-", "SKIPPED", ""])
    for name, error in errors:
        rows.append([name, "-", "-", "-", f"ERROR: {str(error).splitlines()[0][:80]}", ""])
    headers = ["goal", "median", "min / med / max", "target", "result", "CPU-based median (steadier when shared)"]
    return "## Goals\n" + _table(headers, rows)


def to_json(sections, errors, meta):
    return json.dumps({
        "meta": meta,
        "sections": [{
            "title": s.title, "skipped": s.skipped, "facts": s.facts, "notes": s.notes,
            "runs": {label: [{"rps": r.rps, "requests": r.requests, "seconds": r.seconds, "p50_ms": r.p50_ms,
                              "p99_ms": r.p99_ms, "max_ms": r.max_ms, "errors": r.errors, "rss_kb": r.rss_kb,
                              "cpu_seconds": r.cpu_seconds,
                              **r.details} for r in results] for label, results in s.runs.items()},
            "goals": [{"name": g.name, "values": g.values, "median": g.median, "cpu_values": g.cpu_values,
                       "cpu_median": g.cpu_median, "target": g.target,
                       "higher_is_better": g.higher_is_better, "passed": g.passed} for g in s.goals],
        } for s in sections],
        "errors": [{"scenario": name, "error": str(error)} for name, error in errors],
    }, indent=2, ensure_ascii=False)
