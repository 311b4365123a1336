"""``report.html``: one self-contained page a person reads instead of summary.json.

Metric table with deltas against the baseline, one bar chart per item type (matplotlib, embedded as a
base64 PNG so the file can be mailed or attached to a CI run), the naive comparison and the judge when
they ran, and every failed item with its question, answer, expected key facts and citations side by side.
All dataset and answer text goes through ``html.escape``: an answer is model output and a dataset is
anyone's file.
"""
from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from bot.eval.metrics import METRICS, UNBOUNDED

CSS = """
body{font:14px/1.5 -apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em} .meta{color:#666} table{border-collapse:collapse;margin:1em 0;width:100%}
th,td{border:1px solid #ddd;padding:.35em .6em;vertical-align:top;text-align:left} th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.up{color:#1a7f37} .down{color:#cf222e;font-weight:600} .muted{color:#888}
.pass{background:#dafbe1;border:1px solid #1a7f37;padding:.6em 1em} .fail{background:#ffebe9;
border:1px solid #cf222e;padding:.6em 1em} .note{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em}
.item td{width:25%} .reasons{color:#cf222e;font-size:90%} .missing{color:#cf222e} .found{color:#1a7f37}
blockquote{margin:.3em 0;padding-left:.6em;border-left:3px solid #ccc;color:#444;font-size:92%}
img{max-width:100%}
"""


def _fmt(value: float | None) -> str:
    return "<span class='muted'>n/a</span>" if value is None else f"{value:.3f}"


def _delta_cell(metric: str, delta: float | None) -> str:
    """A delta coloured by whether it is better or worse (lower is better for false_refusal_rate)."""
    if delta is None:
        return '<td class="num muted">—</td>'
    if abs(delta) < 5e-4:
        return '<td class="num muted">±0.000</td>'
    better = delta > 0 if METRICS[metric] else delta < 0
    return f'<td class="num {"up" if better else "down"}">{delta:+.3f}</td>'


def chart_png(by_type: dict[str, dict[str, float | None]]) -> str:
    """One horizontal bar chart per item type (metrics 0..1), as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(by_type)
    cols = min(4, max(1, len(types)))
    rows = -(-len(types) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    names = [m for m in METRICS if m not in UNBOUNDED]
    colours = plt.get_cmap("tab10").colors
    for ax, kind in zip(axes.flat, types):
        values = [by_type[kind].get(m) for m in names]
        ax.barh(range(len(names)), [v or 0 for v in values], color=[colours[i % 10] for i in range(len(names))])
        for y, v in enumerate(values):
            ax.text(min(v or 0, 1) + 0.02, y, "n/a" if v is None else f"{v:.2f}", va="center", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.18)
        ax.set_title(kind, fontsize=10)
    for ax in list(axes.flat)[len(types):]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _metric_table(summary: dict[str, Any]) -> str:
    gate_rows = {r["metric"]: r for r in summary["gate"]["rows"]}
    out = ["<table><tr><th>metric</th><th>value</th><th>baseline</th><th>Δ</th><th>tolerance</th>"
           "<th>gate</th></tr>"]
    for metric in METRICS:
        row = gate_rows.get(metric)
        base = _fmt(row["baseline"]) if row else "—"
        tol = f"{row['tolerance']:.3f}" if row else "—"
        verdict = ('<span class="down">regressed</span>' if row["regressed"] else "ok") if row else "—"
        lower = " (lower is better)" if not METRICS[metric] else ""
        out.append(f"<tr><td>{escape(metric)}{lower}</td><td class='num'>{_fmt(summary.get(metric))}</td>"
                   f"<td class='num'>{base}</td>{_delta_cell(metric, row['delta'] if row else None)}"
                   f"<td class='num'>{tol}</td><td>{verdict}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _type_table(summary: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(m)}</th>" for m in METRICS)
    out = [f"<table><tr><th>type</th><th>n</th>{head}</tr>"]
    for kind, figures in summary["by_type"].items():
        cells = "".join(f"<td class='num'>{_fmt(figures.get(m))}</td>" for m in METRICS)
        out.append(f"<tr><td>{escape(kind)}</td><td class='num'>{summary['n_by_type'][kind]}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _gate_box(gate: dict[str, Any]) -> str:
    if not gate["compared"]:
        return f'<p class="note">Gate not applied: {escape(gate["note"])}</p>'
    if gate["passed"]:
        return f'<p class="pass">Gate passed: no metric below its baseline − tolerance ({escape(gate["note"])}).</p>'
    items = "".join(f"<li>{escape(f)}</li>" for f in gate["failures"])
    return f'<div class="fail">Gate FAILED ({escape(gate["note"])}):<ul>{items}</ul></div>'


def _compare_section(compare: dict[str, Any] | None) -> str:
    if not compare:
        return ""
    out = [f"<h2>Against the naive pipeline</h2><p class='meta'>{escape(compare['description'])}</p>",
           "<table><tr><th>metric</th><th>qabot</th><th>naive</th><th>ratio qabot/naive</th></tr>"]
    for metric, row in compare["metrics"].items():
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        out.append(f"<tr><td>{escape(metric)}</td><td class='num'>{_fmt(row['qabot'])}</td>"
                   f"<td class='num'>{_fmt(row['naive'])}</td><td class='num'>{ratio}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _judge_section(judge: dict[str, Any]) -> str:
    if judge.get("skipped"):
        return f"<h2>LLM judge</h2><p class='note'>Skipped: {escape(judge['skipped'])}</p>"
    rows = "".join(
        f"<tr><td>{escape(m)}</td><td class='num'>{_fmt(judge.get(m))}</td></tr>"
        for m in ("faithfulness", "answer_correctness")
    )
    return (f"<h2>LLM judge</h2><p class='meta'>model {escape(str(judge.get('model')))}; "
            f"{judge.get('n_judged', 0)} answers judged, {judge.get('n_errors', 0)} judge errors</p>"
            f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>")


def _citations(citations: list[dict[str, Any]], gold: list[str]) -> str:
    """Each citation's source and quote; a non-gold source or a quote not verbatim in it is marked red."""
    if not citations:
        return "<span class='muted'>no citations</span>"
    return "".join(
        f"<blockquote>[{c['n']}] <b class='{'' if c['source'] in gold else 'down'}'>{escape(c['source'])}"
        f"{'' if c['source'] in gold else ' (not a gold source)'}</b>"
        f"{'' if c['verbatim'] else ' <span class=down>✗ quote not verbatim</span>'}"
        f"<br>{escape(c['quote'])}</blockquote>"
        for c in citations
    )


def _facts(record: dict[str, Any]) -> str:
    missing = {tuple(f) for f in record["metrics"]["facts_missing"]}
    if not record["key_facts"]:
        return "<span class='muted'>none (should refuse)</span>"
    return "<br>".join(
        f"<span class='{'missing' if tuple(f) in missing else 'found'}'>"
        f"{'✗' if tuple(f) in missing else '✓'} {escape(' / '.join(f))}</span>"
        for f in record["key_facts"]
    )


def _failed_items(records: list[dict[str, Any]]) -> str:
    failed = [r for r in records if r["failed"]]
    out = [f"<h2>Failed items ({len(failed)} of {len(records)})</h2>"]
    if not failed:
        return out[0] + "<p>None.</p>"
    out.append("<table class='item'><tr><th>question</th><th>answer</th><th>expected key facts"
               "</th><th>citations</th></tr>")
    for r in failed:
        answer = escape(r["answer"]) + (" <i class='muted'>(refused)</i>" if r["refused"] else "")
        if r.get("error"):
            answer += f"<br><span class='down'>error: {escape(r['error'])}</span>"
        out.append(
            f"<tr><td><b>{escape(r['id'])}</b> <span class='muted'>{escape(r['type'])}</span><br>"
            f"{escape(r['question'])}<div class='reasons'>{escape('; '.join(r['failed']))}</div></td>"
            f"<td>{answer}<div class='muted'>reference: {escape(r['reference'])}</div></td>"
            f"<td>{_facts(r)}<div class='muted'>gold: {escape(', '.join(r['sources']) or '—')}</div></td>"
            f"<td>{_citations(r['citations'], r['sources'])}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def render(summary: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """The whole report page for a run's summary and its per-item records (as written to items.jsonl)."""
    lat = summary["latency_ms"]
    meta = (f"provider <b>{escape(summary['provider'])}</b> · dataset {escape(summary['dataset'])} "
            f"({summary['n_items']} items) · commit {escape(summary['git_commit'][:10])}"
            f"{' (uncommitted changes)' if summary.get('git_dirty') else ''} · {escape(summary['started_at'])}"
            f" · latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms"
            f" · answer length p50 {summary['answer_chars']['p50']:.0f} chars"
            f" (reference answers {summary['reference_chars']['p50']:.0f})")
    if summary.get("n_errors"):
        meta += f" · <span class='down'>{summary['n_errors']} items raised errors</span>"
    if summary.get("n_fallback"):
        meta += f" · <span class='down'>{summary['n_fallback']} answers fell back to extractive (LLM failed)</span>"
    return (
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
        f"<title>qabot eval — {escape(summary['provider'])}</title><style>{CSS}</style></head><body>"
        f"<h1>qabot eval</h1><p class='meta'>{meta}</p>{_gate_box(summary['gate'])}"
        f"<h2>Metrics</h2>{_metric_table(summary)}"
        f"<h2>Per type</h2>{_type_table(summary)}"
        f"<img alt='metrics per item type' src='data:image/png;base64,{chart_png(summary['by_type'])}'>"
        f"{_compare_section(summary.get('compare'))}{_judge_section(summary['judge'])}"
        f"{_failed_items(records)}</body></html>"
    )
