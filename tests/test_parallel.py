"""Both cores and the content cache: a parallel, cached build writes what a serial, uncached one writes."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import post, run_build, write_content, tree
from pelican.readers import MarkdownReader
from shop_fixtures import catalogue, product_file, tiny_png

from core import contentcache, durable, parallel
from core.responsive import ImageError, ResponsiveImages
from core.settings import SiteConfigurationError
from shop.embeds import ProductEmbedExtension
from shop.reading import FrontMatterFiles

BODY = """Un paragrafo con un [collegamento](https://example.com/) e una nota.[^1]

## Come si sceglie

| Modello | Prezzo |
|:--------|-------:|
| Primo   | 10,00  |
| Secondo | 20,00  |

- uno
- due "tra virgolette"

[[prodotto: T-1]]

![Una chitarra grande](/images/grande.png)

[^1]: La nota in fondo.
"""


def site() -> dict:
    files = catalogue()
    files["images/grande.png"] = tiny_png(520, 300)
    for number in range(10):
        files[f"posts/prova-{number}.md"] = post(title=f"Prova {number}", slug=f"prova-{number}",
                                                 date=f"2026-03-{number + 1:02d} 10:00", body=BODY * 3,
                                                 image="images/grande.png", image_alt="Una chitarra grande")
    files["pages/chi-siamo.md"] = "Title: Chi siamo\nSlug: chi-siamo\nSummary: Chi siamo.\n\n" + BODY
    files["pages/contatti.md"] = "Title: Contatti\nSlug: contatti\nSummary: I contatti.\n\nScriveteci."
    files["products/extra.md"] = product_file(BODY, title="Chitarra extra", slug="extra", sku="X-1")
    return files


@pytest.fixture
def content(tmp_path):
    """A tiny site; its feeds are stamped with the build's clock (SHOP_TODAY), so two builds can be compared."""
    folder = tmp_path / "content"
    write_content(folder, site())
    return folder


@pytest.fixture
def serial_reads(monkeypatch):
    """Source paths Pelican's Markdown reader converted in this process (the pool's conversions are not)."""
    paths = []
    original = MarkdownReader.read

    def read(self, source_path):
        paths.append(Path(source_path).name)
        return original(self, source_path)

    monkeypatch.setattr(MarkdownReader, "read", read)
    return paths


def build(content, output, **settings):
    return run_build(content, output, SHOP_TODAY="2026-12-01", **settings)


def test_parallel_cached_builds_write_the_serial_uncached_bytes(tmp_path, content, serial_reads, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_POOL_BYTES", 0)  # a tiny site goes through the pool too
    serial = tree(build(content, tmp_path / "serial", SITE_WORKERS=1, CACHE_CONTENT=False, LOAD_CONTENT_CACHE=False))
    assert len(serial_reads) == 12 and any(name.endswith("-480w.webp") for name in serial)
    serial_reads.clear()
    cache = str(tmp_path / "cache")
    cold = tree(build(content, tmp_path / "cold", SITE_WORKERS=2, CACHE_PATH=cache))
    assert serial_reads == []  # every post and page was converted by the workers
    warm = tree(build(content, tmp_path / "warm", SITE_WORKERS=2, CACHE_PATH=cache))
    assert serial_reads == []
    assert sorted(cold) == sorted(serial) and sorted(warm) == sorted(serial)
    assert [name for name in serial if cold[name] != serial[name]] == []
    assert [name for name in serial if warm[name] != serial[name]] == []


def test_a_warm_rebuild_reads_only_the_edited_post(tmp_path, content, serial_reads):
    cache = str(tmp_path / "cache")
    build(content, tmp_path / "first", SITE_WORKERS=1, CACHE_PATH=cache)
    assert len(serial_reads) == 12
    serial_reads.clear()
    edited = content / "posts/prova-3.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Un paragrafo", "Un paragrafo nuovo", 1),
                      encoding="utf-8")
    os.utime(edited, ns=(edited.stat().st_mtime_ns + 10**9,) * 2)
    output = build(content, tmp_path / "second", SITE_WORKERS=1, CACHE_PATH=cache)
    assert serial_reads == ["prova-3.md"]
    assert "Un paragrafo nuovo" in (output / "blog/prova-3/index.html").read_text(encoding="utf-8")


def test_a_changed_setting_reads_everything_again(tmp_path, content, serial_reads):
    cache = str(tmp_path / "cache")
    build(content, tmp_path / "first", SITE_WORKERS=1, CACHE_PATH=cache)
    serial_reads.clear()
    output = build(content, tmp_path / "second", SITE_WORKERS=1, CACHE_PATH=cache, TAG_URL="blog/etichetta/{slug}/",
                   TAG_SAVE_AS="blog/etichetta/{slug}/index.html")
    assert len(serial_reads) == 12
    assert (output / "blog/etichetta/prova/index.html").is_file()


def test_a_cache_file_cut_by_a_killed_build_is_read_afresh_not_a_crash(tmp_path, content, serial_reads):
    """Pelican writes its cache in place; a build killed while saving left half a file and every later build
    stopped on it (EOFError). Saves now go through a rename, and a cut file is dropped at start."""
    cache = tmp_path / "cache"
    build(content, tmp_path / "first", SITE_WORKERS=1, CACHE_PATH=str(cache))
    readers = cache / "ArticlesGenerator-Readers"
    data = readers.read_bytes()
    readers.write_bytes(data[: len(data) // 2])
    serial_reads.clear()
    output = build(content, tmp_path / "second", SITE_WORKERS=1, CACHE_PATH=str(cache))
    assert len(serial_reads) == 10  # the posts are read again; the pages' cache was whole
    assert (output / "blog/prova-3/index.html").is_file()
    with gzip.open(readers) as whole:  # saved again, whole, by a rename
        assert pickle.load(whole)
    assert not list(cache.glob(f"{durable.TEMP_PREFIX}*"))


# --- pure parts -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_site_workers_must_be_a_whole_number_from_one(value):
    with pytest.raises(SiteConfigurationError, match="SITE_WORKERS"):
        parallel.workers_of({"SITE_WORKERS": value})


def test_site_workers_default_to_the_cpu_count():
    assert parallel.workers_of({}) == (os.cpu_count() or 1)
    assert parallel.workers_of({"SITE_WORKERS": 1}) == 1


def test_map_chunks_keeps_the_order_of_the_items():
    items = list(range(23))
    assert parallel.map_chunks(_squares, None, items, 2) == [i * i for i in items]
    assert parallel.map_chunks(_squares, None, items, 1) == [i * i for i in items]


def _squares(_, chunk):
    return [i * i for i in chunk]


def _settings(tmp_path, **extra):
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "mod.py").write_text("X = 1\n")
    return {"PLUGIN_PATHS": [str(plugins)], "TAG_URL": "tag/{slug}/", "OUTPUT_PATH": "/a", "SITE_NOW": 1,
            "MARKDOWN": {"extensions": ["markdown.extensions.toc"]}, "CACHE_PATH": str(tmp_path / "cache"),
            "CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True, **extra}


def test_the_fingerprint_follows_settings_and_plugin_code_but_not_the_build_folder(tmp_path):
    base = contentcache.fingerprint(_settings(tmp_path))
    assert contentcache.fingerprint(_settings(tmp_path, OUTPUT_PATH="/b", SITE_NOW=2, SITE_WORKERS=4)) == base
    assert contentcache.fingerprint(_settings(tmp_path, TAG_URL="etichetta/{slug}/")) != base
    assert contentcache.fingerprint(_settings(tmp_path, MARKDOWN={"extensions": []})) != base
    settings = _settings(tmp_path)
    (tmp_path / "plugins" / "mod.py").write_text("X = 2\n")
    assert contentcache.fingerprint(settings) != base


def test_the_shop_files_come_from_the_cache_until_a_file_or_the_settings_change(tmp_path, monkeypatch):
    folder = tmp_path / "content"
    write_content(folder, {"products/a.md": product_file("Prima.\n\n[[prodotto: T-1]]"), "products/b.md": product_file()})
    converted = []
    monkeypatch.setattr(FrontMatterFiles, "markdown",
                        lambda self, text, original=FrontMatterFiles.markdown: converted.append(text) or
                        original(self, text))
    settings = _settings(tmp_path, SITE_WORKERS=1)
    settings["SITE_CONTENT_FINGERPRINT"] = contentcache.fingerprint(settings)

    def read_all(settings):
        files = FrontMatterFiles(str(folder), {"extensions": [ProductEmbedExtension()]}, settings)
        read = [(fields["slug"], html, mentions) for fields, html, mentions, _, _ in
                files.published(["products/a.md", "products/b.md"])]
        files.save_cache()  # as the shop's generator does once it has read every folder
        return read

    first = read_all(settings)
    assert len(converted) == 2 and first[0][2] == "T-1" and first[1][2] == ""
    assert read_all(settings) == first and len(converted) == 2
    page = folder / "products/b.md"
    page.write_text(product_file("Nuova descrizione."), encoding="utf-8")
    os.utime(page, ns=(page.stat().st_mtime_ns + 10**9,) * 2)
    assert "Nuova descrizione" in read_all(settings)[1][1] and len(converted) == 3
    changed = {**settings, "SITE_CONTENT_FINGERPRINT": "another"}
    assert read_all(changed) and len(converted) == 5


def test_the_shop_reader_reports_a_bad_file_that_the_pool_skipped(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(parallel, "MIN_POOL_BYTES", 0)
    folder = tmp_path / "content"
    write_content(folder, {"products/a.md": product_file(), "products/b.md": "senza campi\n",
                           "products/c.md": product_file(slug="c")})
    files = FrontMatterFiles(str(folder), {"extensions": []}, _settings(tmp_path, SITE_WORKERS=2))
    failures = []
    read = list(files.published(["products/a.md", "products/b.md", "products/c.md"], failures))
    assert [fields["slug"] for fields, *_ in read] == ["chitarra-di-prova", "c"] and failures == ["products/b.md"]
    assert any("b.md:1" in record.getMessage() and "---" in record.getMessage() for record in caplog.records)


def test_product_bodies_demoted_by_the_pool_are_the_serial_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_POOL_BYTES", 0)
    folder = tmp_path / "content"
    body = "## Materiali\n\nLegno &amp; *ottone*.\n\n### Cura\n\nUn panno."
    write_content(folder, {"products/a.md": product_file(body), "products/b.md": product_file(body, slug="b")})
    paths = ["products/a.md", "products/b.md"]

    def read(workers):
        (tmp_path / f"run-{workers}").mkdir()
        files = FrontMatterFiles(str(folder), {"extensions": []}, _settings(tmp_path / f"run-{workers}", SITE_WORKERS=workers))
        return [item[1:4] for item in files.published(paths, demote=True)]

    pooled, serial = read(2), read(1)
    assert pooled == serial
    headings = [tag.name for tag in BeautifulSoup(pooled[0][0], "html.parser").find_all(("h2", "h3", "h4"))]
    assert headings == ["h3", "h4"] and pooled[0][2].split() == ["Materiali", "Legno", "&", "ottone", ".", "Cura", "Un", "panno."]


def test_images_encoded_by_the_pool_are_the_serial_bytes(tmp_path):
    content = tmp_path / "content"
    write_content(content, {"images/a.png": tiny_png(500, 200), "images/b.png": tiny_png(300, 100),
                            "images/copia.png": tiny_png(500, 200)})
    outputs = {}
    for workers in (1, 2):
        images = ResponsiveImages(content, tmp_path / f"cache-{workers}", workers)
        for name in ("a", "b", "copia"):
            images.sources(f"images/{name}.png")
        output = tmp_path / f"out-{workers}"
        assert images.write(output) == 5  # a and copia are the same bytes: encoded once
        outputs[workers] = tree(output)
    assert len(outputs[1]) == 8 and outputs[1] == outputs[2]


def test_an_unreadable_image_is_named_after_the_pool(tmp_path):
    content = tmp_path / "content"
    broken = tiny_png(300, 100)[:40]  # a PNG header whose pixels are cut off
    write_content(content, {"images/a.png": tiny_png(300, 100), "images/rotta.png": broken})
    images = ResponsiveImages(content, tmp_path / "cache", 2)
    images.sources("images/a.png")
    images.sources("images/rotta.png")
    with pytest.raises(ImageError, match="rotta.png: cannot be read as an image"):
        images.write(tmp_path / "out")


def test_a_side_worker_killed_mid_build_leaves_its_images_to_the_build(tmp_path):
    content = tmp_path / "content"
    write_content(content, {f"images/{n}.png": tiny_png(300 + 20 * n, 100) for n in range(6)})
    serial = ResponsiveImages(content, tmp_path / "cache-serial", 1)
    images = ResponsiveImages(content, tmp_path / "cache", 2)
    for n in range(6):
        serial.sources(f"images/{n}.png")
        images.sources(f"images/{n}.png")
        if n == 2:
            os.kill(images.sidecar.process.pid, 9)  # it dies with jobs handed to it and more waiting
            images.sidecar.process.join()
    assert images.write(tmp_path / "out") == serial.write(tmp_path / "out-serial") == 12
    assert tree(tmp_path / "out") == tree(tmp_path / "out-serial")


def test_a_copy_planned_without_the_side_worker_is_made_by_the_build(tmp_path):
    content = tmp_path / "content"
    write_content(content, {"images/a.png": tiny_png(500, 200), "images/b.png": tiny_png(300, 100)})
    images = ResponsiveImages(content, tmp_path / "cache", 2)
    images.sources("images/a.png")
    sidecar, images.sidecar = images.sidecar, None  # b planned as a fork plans it: nothing handed over
    images.sources("images/b.png")
    images.sidecar = sidecar
    assert images.write(tmp_path / "out") == 5
    assert sorted(tree(tmp_path / "out")) == ["images/a-240w.webp", "images/a-480w.webp", "images/a-500w.webp",
                                              "images/b-240w.webp", "images/b-300w.webp"]


def test_images_asked_for_ahead_are_encoded_but_only_those_pages_use_are_published(tmp_path):
    content = tmp_path / "content"
    write_content(content, {"images/a.png": tiny_png(500, 200), "images/b.png": tiny_png(300, 100)})
    images = ResponsiveImages(content, tmp_path / "cache", 2)
    images.prefetch(["images/a.png", "images/b.png", "images/none.png"])
    images.sources("images/a.png")
    assert images.write(tmp_path / "out") == 5  # a's three copies and b's two, into the cache
    assert sorted(tree(tmp_path / "out")) == ["images/a-240w.webp", "images/a-480w.webp", "images/a-500w.webp"]
    assert len(list((tmp_path / "cache").glob("*.webp"))) == 5
