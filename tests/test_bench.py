"""The bench harness: the synthetic shop, the measuring of a build, the table, ratios and chart (no timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from conftest import ROOT, parse, run_build
from core import bench, synthetic
from servers import running_isso

SVG = "{http://www.w3.org/2000/svg}"


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@pytest.fixture(scope="module")
def tiny_shop(tmp_path_factory) -> synthetic.Shop:
    return synthetic.write_shop(tmp_path_factory.mktemp("shop") / "content", 5, 5)


def test_two_runs_with_the_same_seed_write_the_same_files_and_another_seed_other_text(tmp_path, tiny_shop):
    again = synthetic.write_shop(tmp_path / "again", 5, 5)
    other = synthetic.write_shop(tmp_path / "other", 5, 5, seed=1)
    first = files_of(tiny_shop.folder)
    assert first == files_of(again.folder)
    others = files_of(other.folder)
    items = [name for name in first if name.startswith(("posts/", "products/"))]
    assert all(first[name] != others[name] for name in items)  # the same files, each with other text
    assert sum(name.startswith("posts/") for name in first) == 5
    assert sum(name.startswith("products/") for name in first) == 5
    assert len([name for name in first if name.startswith(synthetic.IMAGE_FOLDER)]) == synthetic.IMAGE_COUNT


def test_a_post_has_about_675_words_with_headings_a_list_a_table_a_link_and_an_image(tiny_shop):
    text = tiny_shop.post_file(2).read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    assert 600 <= len(body.split()) <= 760
    assert body.count("\n## ") == 3 and "\n- " in body and "|---|---:|---|" in body
    assert "({filename}/posts/articolo-" in body and "![" in body and "({static}/images/synthetic/" in body
    assert {line.partition(":")[0] for line in head.splitlines()} >= {"Title", "Slug", "Date", "Category", "Tags"}


def test_the_catalogue_has_variants_sales_and_reviews_at_a_larger_size(tmp_path):
    shop = synthetic.write_shop(tmp_path / "content", 0, 60, images=False)
    products = [path.read_text(encoding="utf-8") for path in sorted((shop.folder / "products").glob("*.md"))]
    assert len(products) == 60 and not (shop.folder / "posts").exists()
    assert any("\nvariants:\n" in text for text in products)
    assert any("\nsale: {" in text and "\nprice_history:\n" in text for text in products)
    assert list((shop.folder / "reviews").glob("*.md")) and list((shop.folder / "lists").glob("*.md"))
    assert not list(shop.folder.rglob("*.jpg")) and (shop.folder / synthetic.PLACEHOLDER).is_file()


def test_the_tiny_shop_builds_without_a_warning(tmp_path, tiny_shop):
    output = run_build(tiny_shop.folder, tmp_path / "output", CACHE_PATH=str(tmp_path / "cache"),
                       SHOP_TODAY=synthetic.TODAY)
    posts = sorted((output / "blog").glob("articolo-*/index.html"))
    products = sorted((output / "prodotti").glob("prodotto-*/index.html"))
    assert len(posts) == 5 and len(products) == 5
    page = parse(posts[0])
    assert page.select("main h2") and page.select("main table") and page.select("main ul li")
    assert any("/blog/articolo-" in (link.get("href") or "") for link in page.select("main a"))
    assert page.select("main img")


def test_the_vanilla_copy_builds_with_pelican_alone_and_has_every_item_as_an_article(tmp_path):
    content = synthetic.write_vanilla(tmp_path / "vanilla", 4, 3, images=False)
    settings = bench.vanilla_simple_settings(tmp_path, content, tmp_path / "cache")
    subprocess.run([sys.executable, "-m", "pelican", str(content), "-s", str(settings), "-o",
                    str(tmp_path / "out"), "-q"], cwd=tmp_path, check=True, stdout=subprocess.DEVNULL)
    feed = feedparser.parse((tmp_path / "out" / "feeds" / "all.atom.xml").read_bytes())
    assert len(feed.entries) == 7
    assert (tmp_path / "out" / "prodotto-00002.html").is_file()
    assert not (tmp_path / "out" / "theme" / "css" / "main.css").exists()  # notmyidea's: not the theme used


def test_editing_a_post_changes_only_that_file_and_replaces_its_own_edit(tiny_shop, tmp_path):
    shop = synthetic.write_shop(tmp_path / "content", 3, 1, images=False)
    before = files_of(shop.folder)
    synthetic.edit_post(shop, 1)
    synthetic.edit_post(shop, 2)
    after = files_of(shop.folder)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["posts/articolo-00000.md"]
    text = after[changed[0]].decode()
    assert text.count("Revisione del testo numero") == 1 and text.endswith("numero 2.\n")


def test_a_build_is_measured_with_its_phases_and_the_memory_of_its_children(tmp_path, tiny_shop):
    settings = bench.shop_settings(tmp_path, ROOT, tiny_shop.folder, tmp_path / "cache", "", synthetic.TODAY)
    command = [sys.executable, "-m", "core.runner", str(tiny_shop.folder), "-s", str(settings), "-o",
               str(tmp_path / "output")]
    measured = bench.measured_run(command, ROOT, bench.runner_env(ROOT, phases=True))
    assert {"settings and plugins", "ArticlesGenerator context", "ProductsGenerator output",
            "images (WebP)"} <= set(measured.phases)
    assert sum(measured.phases.values()) == pytest.approx(measured.seconds, rel=0.01)
    assert measured.peak_rss > 20 * 2 ** 20 and measured.cpu > 0
    # The WebP copies were made (a cold cache) by whichever processes: their CPU, not the build's wait for them.
    made = list((tmp_path / "cache" / "images").glob("*.webp"))
    assert made and 0 < measured.image_cpu < measured.cpu and measured.images == measured.image_cpu
    assert len(list((tmp_path / "output" / "prodotti").glob("prodotto-*/index.html"))) == 5


def test_a_failing_build_stops_the_bench_with_the_problem_it_printed(tmp_path):
    shop = synthetic.write_shop(tmp_path / "content", 1, 1, images=False)
    product = shop.folder / "products" / "prodotto-00000.md"
    product.write_text(product.read_text(encoding="utf-8").replace('price: "', 'price: "abc'), encoding="utf-8")
    settings = bench.shop_settings(tmp_path, ROOT, shop.folder, tmp_path / "cache", "", synthetic.TODAY)
    command = [sys.executable, "-m", "core.runner", str(shop.folder), "-s", str(settings), "-o", str(tmp_path / "o")]
    with pytest.raises(bench.BenchError) as raised:
        bench.measured_run(command, ROOT, bench.runner_env(ROOT, phases=False))
    assert "prodotto-00000.md" in str(raised.value) and "price" in str(raised.value)


def test_the_memory_of_a_process_tree_counts_its_children():
    alone = bench.tree_rss(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import sys; x = bytearray(80 * 2 ** 20); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        while bench.tree_rss(child.pid) < 70 * 2 ** 20 and child.poll() is None:
            pass  # the child is still allocating
        assert bench.tree_rss(os.getpid()) >= alone + 70 * 2 ** 20
    finally:
        child.stdin.close()
        child.wait()
    assert bench.tree_rss(child.pid) == 0


def test_comments_go_to_every_tenth_page_of_a_real_isso(tmp_path):
    uris = [f"/blog/articolo-{n:05d}/" for n in range(25)]
    with running_isso(tmp_path / "isso", "http://127.0.0.1:8000", moderated=False, guarded=False) as (url, _, _):
        posted = bench.add_comments(url, uris)
        counts = []
        for uri in uris:
            query = urllib.parse.urlencode({"uri": uri})
            try:
                with urllib.request.urlopen(f"{url}/?{query}") as response:
                    counts.append(len(json.loads(response.read())["replies"]))
            except urllib.error.HTTPError as error:
                assert error.code == 404  # Isso's answer for a thread without comments
                counts.append(0)
    assert [n for n, count in enumerate(counts) if count] == [0, 10, 20]
    assert sum(counts) == posted and 3 <= posted <= 9


def measured(seconds, cpu=None, rss=100, phases=None):
    return bench.Measured(seconds, cpu if cpu is not None else seconds, rss * 2 ** 20, phases or {})


def fixed_summary() -> bench.Summary:
    return bench.Summary(50, 50, (
        bench.Round(measured(10, 12, 120, {"read": 6, "images (WebP)": 2}), measured(4, 4, 50), measured(3)),
        bench.Round(measured(12, 13, 130, {"read": 7, "images (WebP)": 3}), measured(4, 4, 60), measured(5)),
        bench.Round(measured(9, 10, 110, {"read": 5, "images (WebP)": 1}), measured(2, 2, 55), measured(4)),
    ))


def test_medians_and_paired_ratios_on_fixed_numbers():
    summary = fixed_summary()
    assert summary.median("cold") == 10 and summary.median("vanilla") == 4
    assert summary.ratios() == [2.5, 3.0, 4.5]
    assert summary.ratio() == 3.0  # the median of the paired ratios, not 10 / 4
    assert summary.ratio(field="cpu") == 3.25
    assert summary.ratio("warm", "cold") == pytest.approx(5 / 12, rel=1e-9)  # of 0.3, 5/12, 4/9
    assert summary.ms_per_page("cold") == 100.0
    assert summary.images() == 2 and summary.phases() == {"read": 6, "images (WebP)": 2}
    assert summary.peak_rss("cold") == 130 * 2 ** 20 and summary.peak_rss("vanilla") == 60 * 2 ** 20


def test_the_table_shows_the_medians_ratios_rss_images_and_phases():
    lines = bench.table(fixed_summary()).splitlines()
    row = lambda start: next(line.split() for line in lines if line.startswith(start))  # noqa: E731
    assert row("Vetrina cold ")[2:] == ["10.00", "s", "100.0", "12.00", "s", "130", "MiB"]
    assert row("vanilla Pelican")[-7:] == ["4.00", "s", "40.0", "4.00", "s", "60", "MiB"]  # the highest peak
    assert row("image encoding")[-3:] == ["2.00", "s", "20.0"]
    ratio = next(line for line in lines if line.startswith("Vetrina cold / vanilla"))
    assert "2.50 3.00 4.50" in ratio and ratio.endswith("paired median 3.00 (CPU 3.25)")
    assert row("  read")[1:] == ["6.00", "s", "60.0", "%"]


def test_a_cold_build_without_the_search_index_shows_what_the_index_costs():
    rounds = tuple(bench.Round(r.cold, r.vanilla, r.warm, measured(seconds)) for r, seconds in
                   zip(fixed_summary().rounds, (8, 10, 9)))
    summary = bench.Summary(50, 50, rounds)
    assert summary.ratios("unsearched") == [2.0, 2.5, 4.5]
    lines = bench.table(summary).splitlines()
    assert next(line for line in lines if line.startswith("Vetrina cold without the search index ")).split()[6] == "9.00"
    share = next(line for line in lines if line.startswith("Vetrina cold without the search index / vanilla"))
    # Paired: 10/8, 12/10, 9/9 -> median 1.20.
    assert "2.00 2.50 4.50" in share and share.endswith("the index adds 20 % to the cold build (paired median)")
    assert "without the search index" not in bench.table(fixed_summary())  # not measured: not shown


def test_the_sizes_table_says_how_the_ratio_grows():
    small = fixed_summary()
    large = bench.Summary(500, 500, tuple(bench.Round(r.cold, bench.Measured(r.vanilla.seconds * 0.9, 1, 1, {}),
                                                      r.warm) for r in small.rounds))
    text = bench.sizes_table([small, large])
    assert text.splitlines()[-1].startswith("ratio at 1000 pages / ratio at 100 pages: 1.11")
    assert [line.split()[0] for line in text.splitlines()[1:3]] == ["100", "1000"]


def test_phases_add_up_to_the_run_with_images_taken_out_of_the_phase_that_ran_them():
    spans = [("A context", 1.0, 3.0), ("B context", 3.0, 4.0), ("A output", 4.5, 7.0), ("B output", 7.0, 8.0)]
    images = [(5.0, 6.0), (8.5, 9.0)]
    phases = bench.phases_of([("settings and plugins", 1.0), ("run", 10.0)], spans, images)
    assert phases == pytest.approx({"settings and plugins": 1.0, "A context": 2.0, "B context": 1.0,
                                    "A output": 1.5, "B output": 1.0, "between reading and writing": 0.5,
                                    "the rest of the run (finalized signals)": 2.5, "images (WebP)": 1.5})
    assert sum(phases.values()) == pytest.approx(11.0)
    parsed, rest = bench.parse_phases("Notice: x\nVETRINA_PHASE\tA context\t2.5000\n")
    assert parsed == {"A context": 2.5} and rest == "Notice: x"
    parsed, rest = bench.parse_phases("VETRINA_IMAGE_CPU\t0.2500\nVETRINA_PHASE\tA context\t1\nVETRINA_IMAGE_CPU\t0.5\n")
    assert parsed == {"A context": 1.0, bench.IMAGE_CPU_KEY: 0.75} and rest == ""


def test_the_chart_is_an_svg_with_one_bar_per_row():
    root = etree.fromstring(bench.chart_of([fixed_summary()]).encode())
    assert root.tag == f"{SVG}svg"
    bars = root.findall(f"{SVG}rect")
    labels = [text.text for text in root.findall(f"{SVG}text")]
    assert len(bars) == 3 + 1 + 1  # cold, vanilla, warm, images, the other phase
    assert "Vetrina cold" in labels and "phase: read" in labels
    widths = [float(bar.get("width")) for bar in bars]
    assert max(widths) == widths[0] and widths[1] == pytest.approx(widths[0] * 4 / 10)
    sizes = etree.fromstring(bench.chart_of([fixed_summary(), fixed_summary()]).encode())
    assert len(sizes.findall(f"{SVG}rect")) == 2
