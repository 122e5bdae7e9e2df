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
PAGE_DIR = HERE.parent / "static" / "page"  # built by widgets/build.mjs, with page.json describing it
WEIGHT_GOAL_BYTES = 400_000  # issue 15: page + engine + one instrument, gzip, for the first play
SHELL = ("index.html", "site.json", "sw.js")  # written here; the bundle's files come from page.json


@dataclass
class SiteReport:
    """What was written and what a phone downloads (bytes, gzip level 9 as a static host would serve)."""

    site_dir: Path
    instruments: list[str]
    page_gzip: int  # index.html, site.json, sw.js and the bundle's always-loaded files
    backend_gzip: dict[str, int]  # what each TF.js backend adds when it runs (its chunks, wasm's binary)
    instrument_gzip: dict[str, int] = field(default_factory=dict)

    def first_play_gzip(self, backend: str) -> int:
        """Page, engine on ``backend`` and the largest instrument."""
        return self.page_gzip + self.backend_gzip[backend] + max(self.instrument_gzip.values())

    def lines(self) -> list[str]:
        kb = lambda n: f"{n / 1000:.0f} KB"  # noqa: E731
        out = [f"wrote {self.site_dir} ({', '.join(self.instruments)})",
               f"page + engine core: {kb(self.page_gzip)} gzip"]  # fmt: skip
        out += [f"  + {name} backend: {kb(size)} gzip" for name, size in self.backend_gzip.items()]
        out += [f"  + {name}: {kb(size)} gzip" for name, size in self.instrument_gzip.items()]
        for backend in ("webgl", "wasm"):
            n = self.first_play_gzip(backend)
            verdict = "within" if n <= WEIGHT_GOAL_BYTES else "over"
            out.append(f"first play on {backend} (page + engine + one instrument): {kb(n)} gzip "
                       f"({verdict} the {kb(WEIGHT_GOAL_BYTES)} goal)")  # fmt: skip
        return out


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def page_manifest() -> dict:
    """page.json of the built page: its files, those always loaded, and each backend's extra files."""
    manifest_path = PAGE_DIR / "page.json"
    if not manifest_path.exists():
        raise UserFacingError(
            f"{manifest_path} is missing: the page's JS was not built. Run `npm --prefix widgets run build` "
            "(or reinstall the kit with `pip install .`)."
        )
    manifest = json.loads(manifest_path.read_text())
    for name in manifest["files"]:
        if not (PAGE_DIR / name).is_file():
            raise UserFacingError(f"{PAGE_DIR / name} is missing: rebuild with `npm --prefix widgets run build`")
    return manifest


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
    manifest = page_manifest()
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
    for name in manifest["files"]:
        written[name] = (PAGE_DIR / name).read_bytes()
    html = (HERE / "index.html").read_text()
    written["index.html"] = html.replace("__TITLE__", _html_text(title)).replace("__VERSION__", __version__).encode()
    written["site.json"] = json.dumps(site, indent=1).encode()
    shell = ["./", "index.html", "site.json", *manifest["always"]]
    # The cache's name changes with any file, so a new build replaces what phones hold.
    cache_key = hashlib.sha256(b"".join(hashlib.sha256(written[n]).digest() for n in sorted(written))).hexdigest()[:16]
    sw = (HERE / "sw.js").read_text().replace("__CACHE_KEY__", cache_key).replace("__FILES__", json.dumps(shell))
    written["sw.js"] = sw.encode()
    for rel, data in written.items():
        path = site_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    page = sum(gzip_size(written[n]) for n in (*SHELL, *manifest["always"]))
    backends = {b: sum(gzip_size(written[n]) for n in files) for b, files in manifest["backends"].items()}
    per_instrument = {e["name"]: sum(gzip_size(written[f"{e['path']}{n}"]) for n in e["files"]) for e in entries}
    return SiteReport(site_dir, [e["name"] for e in entries], page, backends, per_instrument)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
