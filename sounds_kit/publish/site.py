"""A static site: index.html, the page bundle, site.json, a service worker and the instruments' files.

The page runs the sing widget's own JS (``widgets/src/page`` hosts it in place of a notebook), so it
plays with the same engine and numbers as the widget. Any static server works; the microphone needs
https or http://localhost.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sounds_kit._version import __version__
from sounds_kit.errors import ModelFileError, UserFacingError

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "static"
PAGE_BUNDLE = "page.js"
WEIGHT_GOAL_BYTES = 400_000  # issue 15: page + engine + one instrument, gzip, for the first play


@dataclass
class SiteReport:
    """What was written and what a phone downloads (bytes, gzip level 9 as a static host would serve)."""

    site_dir: Path
    instruments: list[str]
    page_gzip: int  # index.html + page.js + site.json + sw.js
    wasm_gzip: int  # the wasm binary, fetched only where the wasm backend is chosen
    instrument_gzip: dict[str, int] = field(default_factory=dict)

    @property
    def first_play_gzip(self) -> int:
        """Page, engine and the largest instrument, on WebGL (no wasm binary)."""
        return self.page_gzip + max(self.instrument_gzip.values())

    def lines(self) -> list[str]:
        kb = lambda n: f"{n / 1000:.0f} KB"  # noqa: E731
        out = [f"wrote {self.site_dir} ({', '.join(self.instruments)})",
               f"page + engine: {kb(self.page_gzip)} gzip"]  # fmt: skip
        out += [f"  {name}: {kb(size)} gzip" for name, size in self.instrument_gzip.items()]
        webgl, wasm = self.first_play_gzip, self.first_play_gzip + self.wasm_gzip
        verdict = lambda n: "within" if n <= WEIGHT_GOAL_BYTES else "over"  # noqa: E731
        out.append(
            f"first play (page + engine + one instrument): {kb(webgl)} gzip on WebGL ({verdict(webgl)} the "
            f"{kb(WEIGHT_GOAL_BYTES)} goal), {kb(wasm)} where WebAssembly runs the network ({verdict(wasm)})"
        )
        return out


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def page_assets() -> dict[str, Path]:
    """The built page bundle and its wasm binaries; a clear error when the JS was not built."""
    bundle = STATIC / PAGE_BUNDLE
    if not bundle.exists():
        raise UserFacingError(
            f"{bundle} is missing: the page's JS was not built. Run `npm --prefix widgets run build` "
            "(or reinstall the kit with `pip install .`)."
        )
    linked = set(re.findall(r"tfjs-backend-wasm[\w-]*-[A-Z0-9]{8}\.wasm", bundle.read_text()))
    assets = {PAGE_BUNDLE: bundle}
    for name in sorted(linked):
        if not (STATIC / name).exists():
            raise UserFacingError(f"{STATIC / name} is missing: rebuild the page with `npm --prefix widgets run build`")
        assets[name] = STATIC / name
    return assets


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "instrument"


def build_site(
    instruments: Sequence[str],
    site_dir: str | Path,
    *,
    traits: dict,
    title: str = "Sing with sounds-kit",
) -> SiteReport:
    """Write the site for ``instruments`` (names or MODEL_DIRs) into ``site_dir`` (replaced if it exists).

    ``traits``: the sing widget's traits the page starts with (``SingWidget.page_traits()``); the
    instrument and its choices are set here from ``instruments``, the first one chosen.
    """
    from sounds_kit.instrument.files import browser_files
    from sounds_kit.instrument.load import resolve_model_dir

    if not instruments:
        raise UserFacingError("publish needs at least one instrument")
    site_dir = Path(site_dir)
    assets = page_assets()
    entries, files_by_key, labels = [], {}, {}
    for given in instruments:
        try:
            model_dir = resolve_model_dir(given)
            files = browser_files(model_dir)
        except ModelFileError as err:
            raise UserFacingError(str(err)) from err
        meta = json.loads(files["metadata.json"])
        name = str(meta.get("name") or model_dir.name)
        key = _slug(name)
        if key in files_by_key:
            raise UserFacingError(f"two instruments are both called {name!r}: export one under another --name")
        label = str(meta.get("display_name") or name)
        labels[key] = label.capitalize() if label.islower() else label
        files_by_key[key] = files
        # metadata.json first: the engine checks every other file against its hashes.
        names = ["metadata.json", *[n for n in files if n != "metadata.json"]]
        entries.append({"key": key, "name": name, "path": f"instruments/{key}/", "files": names})
    keys = [e["key"] for e in entries]
    traits = {
        **traits,
        "instrument": keys[0],
        "instrument_choices": [{"key": k, "label": labels[k], "available": True} for k in keys],
    }
    site = {"kit_version": __version__, "instruments": entries, "traits": traits}

    if site_dir.exists():
        if not (site_dir / "site.json").exists() and any(site_dir.iterdir()):
            raise UserFacingError(f"{site_dir} exists and is not a published site: choose an empty or new folder")
        shutil.rmtree(site_dir)
    site_dir.mkdir(parents=True)
    written: dict[str, bytes] = {}
    for key, files in files_by_key.items():
        for name, data in files.items():
            written[f"instruments/{key}/{name}"] = data
    for name, path in assets.items():
        written[name] = path.read_bytes()
    html = (HERE / "index.html").read_text()
    written["index.html"] = html.replace("__TITLE__", _html_text(title)).replace("__VERSION__", __version__).encode()
    written["site.json"] = json.dumps(site, indent=1).encode()
    cached = ["./", *sorted(written)]
    cache_key = hashlib.sha256(b"".join(hashlib.sha256(written[n]).digest() for n in sorted(written))).hexdigest()[:16]
    sw = (HERE / "sw.js").read_text().replace("__CACHE_KEY__", cache_key).replace("__FILES__", json.dumps(cached))
    written["sw.js"] = sw.encode()
    for rel, data in written.items():
        path = site_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    page = sum(gzip_size(written[n]) for n in ("index.html", PAGE_BUNDLE, "site.json", "sw.js"))
    simd = [n for n in assets if "simd" in n]
    wasm = gzip_size(written[simd[0]]) if simd else 0
    per_instrument = {e["name"]: sum(gzip_size(written[f"{e['path']}{n}"]) for n in e["files"]) for e in entries}
    return SiteReport(site_dir, [e["name"] for e in entries], page, wasm, per_instrument)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
