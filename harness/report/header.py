"""The top of the report: the environment the run recorded and the md5 of every asset.

The environment is what ``harness.environment.describe_environment`` wrote into results.json (CPU, GPU,
driver, onnxruntime providers, package versions, suite version). Asset md5s come from the ``assets`` entry
of that environment (``assets verify`` states at the end of the run) or, for a submission, from its
assets.json; a run that recorded neither says so in red rather than showing nothing.
"""
from __future__ import annotations

import re
from typing import Any

from harness.report.markup import esc, flatten, note, table

MD5 = re.compile(r"[0-9a-f]{32}")
MAIN_KEYS = ("suite", "cpu", "gpu", "driver", "cuda", "onnxruntime_providers", "python", "platform")


def asset_rows(environment: dict[str, Any], assets: list[dict[str, Any]] | None) -> list[tuple[str, str, str]]:
    """(name, status, md5) per asset, from ``assets verify`` states or the environment's ``assets`` entry."""
    if assets is not None:
        return [(str(a.get("name")), str(a.get("status", "")), str(a.get("actual_md5") or a.get("message") or ""))
                for a in assets]
    recorded = environment.get("assets") or {}
    out = []
    for name in sorted(recorded):
        entry = recorded[name]
        if isinstance(entry, dict):
            out.append((name, str(entry.get("status", "")), str(entry.get("md5") or entry.get("detail") or "")))
        else:
            out.append((name, "", str(entry)))
    return out


def _asset_row(name: str, state: str, md5: str) -> str:
    """md5s in full; a state without one (skipped, missing) shows a dash with the reason on hover."""
    hashes = MD5.findall(md5)
    shown = md5 if MD5.fullmatch(md5) else ", ".join(hashes)
    title = "" if MD5.fullmatch(md5) else f' title="{esc(md5)}"'
    return (f'<tr class="asset"><td class="t">{esc(name)}</td><td class="t">{esc(state)}</td>'
            f'<td class="t"{title}><code>{esc(shown or "-")}</code></td></tr>')


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


def environment_section(environment: dict[str, Any], assets: list[dict[str, Any]] | None) -> str:
    if not environment:
        env = note('<b style="color:#900">results.json recorded no environment.</b>')
    else:
        main = [(k, environment[k]) for k in MAIN_KEYS if k in environment]
        rest = [(k, v) for k, v in flatten({k: v for k, v in environment.items()
                                            if k not in MAIN_KEYS and k not in ("assets", "packages")})]
        packages = environment.get("packages") or {}
        body = [f'<tr><td class="t">{esc(k)}</td><td class="t">{esc(_text(v))}</td></tr>' for k, v in main + rest]
        if packages:
            body.append(f'<tr><td class="t">packages</td><td class="t">'
                        f'{esc(", ".join(f"{n} {v}" for n, v in sorted(packages.items())))}</td></tr>')
        env = table(["", "run environment"], body, ' id="environment"')
    rows = asset_rows(environment, assets)
    if rows:
        body = [_asset_row(n, s, m) for n, s, m in rows]
        asset_table = table(["asset", "state", "md5"], body, ' id="assets"')
    else:
        asset_table = note('<b style="color:#900">No asset md5s recorded</b> (run <code>python -m harness assets '
                           "verify</code>).")
    return f"<h2>Environment and assets</h2>{env}{asset_table}"
