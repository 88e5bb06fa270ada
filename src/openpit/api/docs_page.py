"""``/api/v1/docs``: the OpenAPI document rendered as one plain HTML page (no scripts, no CDN).

Invariants:
- Everything shown comes from the document itself; every value is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.op{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em 1em}
.m{display:inline-block;min-width:4.5em;font-weight:700;font-family:monospace}
.GET{color:#0a6} .POST{color:#06c} .PATCH{color:#a60} .DELETE{color:#c22}
code,pre{background:#f4f4f4;border-radius:3px;padding:0 .25em}
pre{padding:.6em;overflow:auto;font-size:13px}
table{border-collapse:collapse;font-size:14px} td,th{border:1px solid #ddd;padding:.2em .5em}
.lock{font-size:12px;color:#a60;margin-left:.6em}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2)


def _md_inline(text: str) -> str:
    """Enough markdown for the description: `code` and **bold**, paragraphs."""
    out = []
    for para in text.split("\n\n"):
        escaped = _e(para)
        parts = escaped.split("`")
        escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
        parts = escaped.split("**")
        escaped = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
        out.append(f"<p>{escaped}</p>")
    return "\n".join(out)


def render_docs(doc: dict[str, Any]) -> str:
    info = doc["info"]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    body = [
        f"<h1>{_e(info['title'])} <small>{_e(info['version'])}</small></h1>",
        '<p>Machine-readable: <a href="openapi.json">openapi.json</a> · '
        '<a href="/">dashboard</a></p>',
        _md_inline(info.get("description", "")),
        "<h2>Contents</h2><ul>",
    ]
    for tag, ops in by_tag.items():
        body.append(f'<li><a href="#{_e(tag)}">{_e(tag)}</a> ({len(ops)})</li>')
    body.append("</ul>")
    for tag, ops in by_tag.items():
        body.append(f'<h2 id="{_e(tag)}">{_e(tag)}</h2>')
        for method, path, op in ops:
            lock = '<span class="lock">signed</span>' if "security" in op else ""
            body.append(f'<div class="op" id="{_e(op["operationId"])}">')
            body.append(
                f'<div><span class="m {method}">{method}</span> <code>{_e(path)}</code>{lock}'
                f" — {_e(op['summary'])}</div>"
            )
            if "description" in op:
                body.append(f"<p>{_md_inline(op['description'])}</p>")
            params = op.get("parameters", [])
            if params:
                body.append("<table><tr><th>parameter</th><th>in</th><th>schema</th></tr>")
                for p in params:
                    req = " (required)" if p.get("required") else ""
                    body.append(
                        f"<tr><td><code>{_e(p['name'])}</code>{req}</td><td>{_e(p['in'])}</td>"
                        f"<td><code>{_e(json.dumps(p['schema']))}</code></td></tr>"
                    )
                body.append("</table>")
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]
                body.append(f"<p>Body: {_ref_link(ref)}</p>")
            replies = []
            for code, resp in op["responses"].items():
                schema = resp["content"]["application/json"]["schema"]
                replies.append(f"<b>{_e(code)}</b> {_ref_link(schema)}")
            body.append("<p>Replies: " + " · ".join(replies) + "</p></div>")
    body.append("<h2 id='schemas'>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        body.append(f'<h3 id="schema-{_e(name)}">{_e(name)}</h3>')
        body.append(f"<pre>{_e(_schema_text(schema))}</pre>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(info['title'])}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


def _ref_link(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if ref is None and schema.get("type") == "array":
        return "array of " + _ref_link(schema.get("items", {}))
    if ref is None:
        return f"<code>{_e(json.dumps(schema))}</code>"
    name = ref.rsplit("/", 1)[-1]
    return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
