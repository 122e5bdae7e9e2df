"""sounds-kit publish: what the site folder holds and what the command says (the page itself runs in
tests/test_publish_browser.py)."""

from __future__ import annotations

import json
import re

import pytest

from sounds_kit.cli import main
from sounds_kit.errors import UserFacingError
from sounds_kit.instrument.files import browser_files
from sounds_kit.instrument.load import resolve_model_dir
from sounds_kit.publish import build_site
from sounds_kit.publish.site import PAGE_DIR
from sounds_kit.widgets.sing import SingWidget

pytestmark = pytest.mark.skipif(not (PAGE_DIR / "page.json").exists(), reason="the page bundle is not built")


def test_a_site_holds_the_page_engine_and_each_instruments_exported_files(tmp_path):
    w = SingWidget(instrument="shehnai", raga="bhupali", sa="D3")
    w.tanpura = True
    report = w.publish(tmp_path / "site", instruments=["bansuri", "shehnai"])
    site = tmp_path / "site"
    for name in ("index.html", "page.js", "site.json", "sw.js"):
        assert (site / name).is_file(), name
    meta = json.loads((site / "site.json").read_text())
    assert [e["key"] for e in meta["instruments"]] == ["shehnai", "bansuri"]  # the widget's instrument first
    for entry in meta["instruments"]:
        expected = browser_files(resolve_model_dir(entry["name"]))
        assert entry["files"][0] == "metadata.json" and set(entry["files"]) == set(expected)
        for name, data in expected.items():
            assert (site / entry["path"] / name).read_bytes() == data
    traits = meta["traits"]
    assert traits["instrument"] == "shehnai" and traits["raga"] == "bhupali" and traits["tanpura"] is True
    assert traits["sa_hz"] == pytest.approx(w.sa_hz) and traits["model_state"] == "none"
    assert "layout" not in traits
    # Every file the bundle can load is there (chunks, wasm binaries); the widget's own bundle is not.
    manifest = json.loads((PAGE_DIR / "page.json").read_text())
    assert all((site / n).is_file() for n in manifest["files"])
    for chunks in manifest["backends"].values():
        assert set(chunks) <= set(manifest["files"])
    assert any(n.endswith(".wasm") for n in manifest["backends"]["wasm"])
    assert not any(n.endswith(".wasm") for n in manifest["backends"]["webgl"])
    assert not (site / "widget.js").exists()
    assert report.instruments == ["shehnai", "bansuri"] and report.page_gzip > 0
    assert report.first_play_gzip("wasm") > report.page_gzip + max(report.instrument_gzip.values())


def test_the_service_worker_caches_the_shell_and_the_page_loads_nothing_from_elsewhere(tmp_path):
    site = tmp_path / "site"
    build_site(["bansuri"], site, traits=SingWidget().page_traits())
    manifest = json.loads((PAGE_DIR / "page.json").read_text())
    shell = json.loads(re.search(r"const SHELL = (\[.*\]);", (site / "sw.js").read_text()).group(1))
    # Backends and instruments are cached when first used, not at install (a phone fetches only its own).
    assert set(shell) == {"./", "index.html", "site.json", *manifest["always"]}
    assert all((site / n).is_file() for n in shell if n != "./")
    html = (site / "index.html").read_text()
    assert "default-src 'self'" in html and "connect-src 'self'" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page links another host"


def test_a_new_build_changes_the_cache_name_only_when_a_file_changes(tmp_path):
    def cache_name(site):
        return re.search(r'const CACHE = "([^"]+)"', (site / "sw.js").read_text()).group(1)

    traits = SingWidget().page_traits()
    build_site(["bansuri"], tmp_path / "a", traits=traits)
    build_site(["bansuri"], tmp_path / "b", traits=traits)
    build_site(["bansuri"], tmp_path / "c", traits={**traits, "raga": "bhupali"})
    assert cache_name(tmp_path / "a") == cache_name(tmp_path / "b") != cache_name(tmp_path / "c")


def test_the_command_reports_the_download_weight(tmp_path, capsys):
    assert main(["publish", "bansuri", "-o", str(tmp_path / "site"), "--raga", "bhupali"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"page \+ engine core: \d+ KB gzip", out)
    for backend in ("webgl", "wasm"):
        assert re.search(rf"first play on {backend} \(page \+ engine \+ one instrument\): \d+ KB gzip", out)
    assert "python -m http.server" in out


def test_bad_input_gets_a_clear_error(tmp_path, capsys):
    assert main(["publish", "no-such-instrument", "-o", str(tmp_path / "a")]) != 0
    assert "no instrument 'no-such-instrument'" in capsys.readouterr().err
    assert main(["publish", "bansuri", "--raga", "nope", "-o", str(tmp_path / "b")]) != 0
    assert "unknown raga" in capsys.readouterr().err
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    with pytest.raises(UserFacingError, match="not a published site"):
        build_site(["bansuri"], precious, traits=SingWidget().page_traits())
    assert (precious / "thesis.txt").read_text() == "keep me"
