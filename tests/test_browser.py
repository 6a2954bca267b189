"""The HTML report and a diagram, opened in a real browser (headless Chromium).

Each page is rendered to a PNG screenshot, which must not be blank (many
colours, some ink, not all ink), its DOM dumped (the report's sections and
inline SVG are there), the browser's console must stay silent, and the
browser's network log must show no request from the page (it works
offline). A canary page that does fetch proves the network check can see a
fetch. Skipped, with the reason, only where Chromium is absent and the
environment variable CI is not "true"; in CI a missing browser fails.

Set HIPKB_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

from conftest import REPO

DEMO = REPO / "examples" / "demo-01.yaml"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing can reach the network, even by mistake
]


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: install the Debian package 'chromium'")
        pytest.skip("Chromium is not installed (Debian package 'chromium'): the report is not checked in a browser here")
    return found


def run(chromium: str, target: Path, shot: Path, size: tuple[int, int], *, scale: float = 1.0) -> tuple[str, str, dict]:
    """Open ``target``; write a screenshot; return (DOM, browser log, network log)."""
    with tempfile.TemporaryDirectory(prefix="hipkb-chromium-") as profile:
        netlog = Path(profile) / "net.json"
        args = [
            chromium, *FLAGS, f"--user-data-dir={profile}/data", f"--window-size={size[0]},{size[1]}",
            f"--force-device-scale-factor={scale}", f"--screenshot={shot}", f"--log-net-log={netlog}", "--dump-dom",
            target.resolve().as_uri(),
        ]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        net = json.loads(netlog.read_text(encoding="utf-8")) if netlog.exists() else {"events": []}
    keep = os.environ.get("HIPKB_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return proc.stdout, proc.stderr, net


def console_messages(log: str) -> list[str]:
    """The page's console messages (errors, warnings, logs, uncaught exceptions) from Chromium's log."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def page_requests(net: dict, annotation: int) -> list[str]:
    """URLs the page itself asked for (not the browser's own housekeeping), other than its file."""
    urls = []
    for event in net.get("events", []):
        params = event.get("params") or {}
        if params.get("traffic_annotation") == annotation and "url" in params and not params["url"].startswith("file:"):
            urls.append(params["url"])
    return urls


def read_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of pixel bytes, bytes per pixel) of an 8-bit RGB or RGBA PNG, with the stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytes(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = bytes((a + b) & 255 for a, b in zip(line, prev))
        else:
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if kind == 1:
                    out[i] = (out[i] + left) & 255
                elif kind == 3:
                    out[i] = (out[i] + ((left + up) >> 1)) & 255
                else:
                    corner = prev[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    out[i] = (out[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
            cur = bytes(out)
        rows.append(cur)
        prev = cur
    return width, height, rows, bpp


def ink(png: Path) -> tuple[int, float]:
    """(distinct colours, share of pixels that are not near-white) of a screenshot."""
    width, height, rows, bpp = read_png(png.read_bytes())
    colours: set[bytes] = set()
    inked = 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            pixel = row[x:x + 3]
            colours.add(pixel)
            if min(pixel) < 235:
                inked += 1
    return len(colours), inked / (width * height)


@pytest.fixture(scope="session")
def page_annotation(chromium, tmp_path_factory) -> int:
    """The network-log tag of requests a page makes, learnt from a page that does fetch (the check is not blind)."""
    folder = tmp_path_factory.mktemp("canary")
    canary = folder / "canary.html"
    canary.write_text(
        '<!DOCTYPE html><html><body><p>canary</p><img src="http://hipkb-canary.invalid/x.png"></body></html>',
        encoding="utf-8",
    )
    _, _, net = run(chromium, canary, folder / "canary.png", (400, 300))
    tags = {
        (event.get("params") or {}).get("traffic_annotation")
        for event in net.get("events", [])
        if "hipkb-canary.invalid" in str((event.get("params") or {}).get("url", ""))
    } - {None}
    assert len(tags) == 1, f"the network log did not show the canary page's fetch: {tags}"
    return tags.pop()


def test_the_report_renders_offline_in_a_browser(chromium, page_annotation, tmp_path):
    from hipkb.cli import main

    report = tmp_path / "report.html"
    assert main(["report", str(DEMO), "-o", str(report)]) == 0
    shot = tmp_path / "report.png"
    dom, log, net = run(chromium, report, shot, (1280, 1600))
    assert console_messages(log) == []
    assert page_requests(net, page_annotation) == []
    # the DOM the browser built: the sections, the collapsible trees, the inline diagram
    for text in ("<h2>Bottom line</h2>", "Why is IR limited? The contributors", "<h2>Conclusions</h2>",
                 "<h2>Recommendations</h2>", "<h2>Assumptions</h2>", "<h2>Borderline readings</h2>",
                 "The reasoning as a diagram"):
        assert text in dom, text
    assert dom.count("<details") >= 30 and "<svg" in dom and "Exercises, in this order" in dom
    colours, share = ink(shot)
    assert colours >= 64, colours
    assert 0.03 <= share <= 0.9, share


def test_a_diagram_renders_in_a_browser(chromium, page_annotation, tmp_path):
    from hipkb.cli import main

    svg = tmp_path / "demo-01.svg"
    assert main(["diagram", str(DEMO), "-o", str(svg)]) == 0
    shot = tmp_path / "diagram.png"
    dom, log, net = run(chromium, svg, shot, (2800, 1500), scale=0.5)
    assert console_messages(log) == []
    assert page_requests(net, page_annotation) == []
    assert "Left hip" in dom and "Right hip" in dom and "Legend" in dom
    colours, share = ink(shot)
    assert colours >= 64, colours
    assert 0.05 <= share <= 0.9, share


def test_the_checks_see_a_blank_page_and_console_errors(chromium, tmp_path):
    noisy = tmp_path / "noisy.html"  # nothing to see, two console messages
    noisy.write_text("<!DOCTYPE html><html><body><script>console.error('x'); missing();</script></body></html>",
                     encoding="utf-8")
    _, log, _ = run(chromium, noisy, tmp_path / "noisy.png", (400, 300))
    assert len(console_messages(log)) == 2
    colours, share = ink(tmp_path / "noisy.png")
    assert colours < 64 and share < 0.03
