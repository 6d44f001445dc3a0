"""Debian's Chromium driven by Playwright (never a downloaded browser), and media made in it.

The tests and ``bench/publish_to_screen.py`` use the same launch flags.  Demo
media (a PNG poster and a short WebM clip) are drawn on a canvas and recorded
with ``MediaRecorder`` inside that Chromium, so no image or video tool is needed.
"""

from __future__ import annotations

import base64
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

_DRAW = """([w, h, title, hue]) => {
  const c = document.createElement('canvas'); c.width = w; c.height = h;
  const g = c.getContext('2d');
  const grad = g.createLinearGradient(0, 0, w, h);
  grad.addColorStop(0, `hsl(${hue},70%,45%)`); grad.addColorStop(1, `hsl(${hue + 60},70%,25%)`);
  g.fillStyle = grad; g.fillRect(0, 0, w, h);
  g.fillStyle = 'rgba(255,255,255,.15)';
  for (let i = 0; i < 12; i++) { g.beginPath(); g.arc(w * ((i * 37) % 100) / 100, h * ((i * 53) % 100) / 100,
    h * (0.05 + (i % 4) * 0.04), 0, 7); g.fill(); }
  g.fillStyle = '#fff'; g.font = `bold ${Math.round(h / 9)}px "Noto Sans CJK SC", sans-serif`;
  g.textAlign = 'center'; g.fillText(title, w / 2, h / 2);
  return c;
}"""


def launch(playwright: Any, **kwargs: Any) -> Any:
    """Headless Chromium from Debian's package."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, **kwargs)


def make_png(page: Any, title: str, hue: int = 200, size: tuple[int, int] = (1280, 720)) -> bytes:
    data_url = page.evaluate(f"(a) => ({_DRAW})(a).toDataURL('image/png')", [size[0], size[1], title, hue])
    return base64.b64decode(data_url.split(",", 1)[1])


def make_webm(page: Any, title: str, seconds: float = 2.0, hue: int = 30) -> bytes:
    """A short VP8 clip of an animated canvas."""
    script = f"""async ([w, h, title, hue, ms]) => {{
      const c = ({_DRAW})([w, h, title, hue]); const g = c.getContext('2d'); document.body.appendChild(c);
      const rec = new MediaRecorder(c.captureStream(25), {{mimeType: 'video/webm;codecs=vp8'}});
      const parts = []; rec.ondataavailable = e => parts.push(e.data);
      const done = new Promise(r => rec.onstop = r);
      rec.start(100); const t0 = performance.now();
      await new Promise(r => {{ const step = () => {{ const t = performance.now() - t0;
        g.fillStyle = `hsl(${{hue + t / 20}},70%,40%)`; g.fillRect(0, h * .8, w * Math.min(1, t / ms), h * .2);
        if (t < ms) requestAnimationFrame(step); else r(); }}; step(); }});
      rec.stop(); await done; c.remove();
      const buf = new Uint8Array(await new Blob(parts, {{type: 'video/webm'}}).arrayBuffer());
      let s = ''; for (let i = 0; i < buf.length; i += 8192) s += String.fromCharCode(...buf.subarray(i, i + 8192));
      return btoa(s);
    }}"""
    return base64.b64decode(page.evaluate(script, [640, 360, title, hue, int(seconds * 1000)]))
