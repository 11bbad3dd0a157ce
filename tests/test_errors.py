"""Build errors: one line per problem naming the file (and line, and field), all of them at the end, no traceback.

The pure helpers that place and word a problem are tested directly. What only a build shows (that Pelican's
own failures are explained, that a build goes on after a bad file, the block, the exit status, the last good
output kept) is tested with real builds of tiny sites, run as `vetrina build` runs them: core.build.build_site
in the site's folder, whose paths the lines are relative to.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import pytest
from conftest import ROOT, parse, post, write_content
from core import problems
from core.build import build_site, staging_prefix
from shop_fixtures import PNG, product_file

TODAY = "2026-11-22"
GOOD_PRODUCT = {"images/p.png": PNG, "products/buono.md": product_file()}
DATE_FIX = "write it like 2026-11-22 10:15"


# --- pure helpers ---------------------------------------------------------------------------------------------

FRONT_MATTER = """\
---
title: Chitarra
price: "12,90"
variants:
  - sku: V-1
    options:
      colore: Rossa
  - sku: V-2
---
Testo
"""

PELICAN_HEADER = """\
Title: Una prova
Slug: una-prova
Date: yesterday
Tags: ???

Tags: not a field, the body
"""


@pytest.mark.parametrize("text, field, line", [
    (FRONT_MATTER, "price", 3),
    (FRONT_MATTER, "variants", 4),
    (FRONT_MATTER, "variants[0].sku", 5),
    (FRONT_MATTER, "variants[0].options.colore", 7),
    (FRONT_MATTER, "variants[1].sku", 8),
    (FRONT_MATTER, "variants[1].options", 8),  # missing: its parent's line
    (FRONT_MATTER, "brand", None),
    (PELICAN_HEADER, "date", 3),
    (PELICAN_HEADER, "tags", 4),
    (PELICAN_HEADER, "summary", None),
])
def test_field_line_is_the_line_of_the_file(text, field, line):
    assert problems.field_line(text, field) == line


@pytest.mark.parametrize("value, message", [
    ("yesterday", "'yesterday' is not a date; " + DATE_FIX),
    ("2026-02-30", "'2026-02-30' is not a day of the calendar; write a real date like 2026-11-22 10:15"),
    ("2026-13-01 10:00", "'2026-13-01 10:00' is not a day of the calendar; write a real date like 2026-11-22 10:15"),
])
def test_a_refused_date_says_how_to_write_one(value, message):
    assert problems.not_a_date(value) == message


def test_a_latin1_file_is_named_at_its_line_with_the_word_readable():
    data = "Title: Prova\nSummary: Un caffè\n".encode("latin-1")
    with pytest.raises(UnicodeDecodeError) as failure:
        data.decode("utf-8")
    line, message = problems.not_utf8(data, failure.value)
    assert line == 2
    assert "byte 0xe8 in 'Summary: Un caffè'" in message and "save it again with the UTF-8 encoding" in message


def test_report_counts_problems_and_files_and_sorts_them_by_file_and_line():
    found = [problems.Problem("content/b.md", 3, "due"), problems.Problem("content/a.md", 9, "uno"),
             problems.Problem("content/b.md", 1, "tre"), problems.Problem("content/b.md", 1, "tre"),
             problems.Problem("", 0, "senza file")]
    assert problems.report(found).splitlines() == [
        "4 problems in 2 files:", "  senza file", "  content/a.md:9: uno", "  content/b.md:1: tre",
        "  content/b.md:3: due"]


def test_split_location_reads_path_and_line_only_of_real_files():
    is_file = {"content/a.md"}.__contains__
    assert problems.split_location("content/a.md:4: field 'x': no", is_file) == problems.Problem(
        "content/a.md", 4, "field 'x': no")
    assert problems.split_location("content/a.md: no", is_file) == problems.Problem("content/a.md", 0, "no")
    assert problems.split_location("Something: else", is_file) == problems.Problem("", 0, "Something: else")


def test_offset_time_is_written_with_the_colon_in_the_offset():
    rome = dt.timezone(dt.timedelta(hours=1))
    assert problems.offset_time(dt.datetime(2027, 1, 10, 9, 0, tzinfo=rome)) == "2027-01-10 09:00 +01:00"


# --- whole builds, as `vetrina build` runs them ---------------------------------------------------------------

SETTINGS = """\
import sys
sys.path.insert(0, {root!r})
from {module} import *  # noqa: F401,F403 - the project's settings, with the engine's theme and plugins
THEME = {theme!r}
PLUGIN_PATHS = [{plugins!r}]
COMMENTS_ISSO_BUILD_URL = ""
SHOP_TODAY = {today!r}
"""


class Build:
    """What one build printed: whether it succeeded, its problem lines and everything it wrote to the terminal."""

    def __init__(self, ok: bool, out: str, err: str):
        self.ok, self.out, self.err = ok, out, err
        block = err.split("\n")
        header = next((i for i, line in enumerate(block) if re.fullmatch(r"\d+ problems?( in \d+ files?)?:", line)),
                      None)
        self.header = block[header] if header is not None else None
        self.lines = [line[2:] for line in block[header + 1:] if line.startswith("  ")] if header is not None else []


@pytest.fixture
def vetrina_build(tmp_path, capfd):
    """vetrina_build(content, debug=False) -> Build of a tiny site in tmp_path (its own settings file)."""
    settings = tmp_path / "settings.py"
    settings.write_text(SETTINGS.format(root=str(ROOT), module="pelicanconf", theme=str(ROOT / "theme"),
                                         plugins=str(ROOT / "plugins"), today=TODAY), encoding="utf-8")

    def run(content: dict, debug: bool = False, production: bool = False, **overrides) -> Build:
        if production:
            settings.write_text(settings.read_text(encoding="utf-8").replace("from pelicanconf ", "from publishconf "),
                                encoding="utf-8")
        if overrides:
            settings.write_text(settings.read_text(encoding="utf-8")
                                + "".join(f"{key} = {value!r}\n" for key, value in overrides.items()),
                                encoding="utf-8")
        write_content(tmp_path / "content", content)
        capfd.readouterr()
        ok = build_site(tmp_path, settings, tmp_path / "output", tmp_path / "content", debug=debug)
        out, err = capfd.readouterr()
        return Build(ok, out, err)

    return run


def assert_only_problem(build: Build, line: str):
    assert not build.ok
    assert build.lines == [line], build.err
    assert "Traceback" not in build.out + build.err


def test_a_latin1_product_is_named_with_its_line(vetrina_build):
    product = product_file(slug="latino", sku="L-1", title="Chitarra caffè").encode("latin-1")
    build = vetrina_build({**GOOD_PRODUCT, "products/latino.md": product})
    assert_only_problem(build, "content/products/latino.md:2: the file is not UTF-8 text (byte 0xe8 in "
                               "'title: Chitarra caffè', perhaps Latin-1 or Windows-1252); save it again with "
                               "the UTF-8 encoding")


def test_a_latin1_post_is_named_with_its_line(vetrina_build):
    build = vetrina_build({"posts/latino.md": post(title="Un caffè").encode("latin-1")})
    assert_only_problem(build, "content/posts/latino.md:1: the file is not UTF-8 text (byte 0xe8 in "
                               "'Title: Un caffè', perhaps Latin-1 or Windows-1252); save it again with the "
                               "UTF-8 encoding")


def test_a_tag_without_letters_names_the_file_line_and_field(vetrina_build):
    build = vetrina_build({"posts/tag.md": post(tags="???")})
    assert_only_problem(build, "content/posts/tag.md:5: field 'tags': '???' has no letter or digit to make its "
                               "page's address from; rename it")


def test_a_broken_filename_link_names_the_source_and_the_missing_target(vetrina_build):
    build = vetrina_build({"posts/link.md": post(body="Vedi [questo]({filename}/posts/manca.md).")})
    assert_only_problem(build, "content/posts/link.md:8: link {filename}/posts/manca.md: there is no file "
                               "content/posts/manca.md; correct the path or remove the link")


def test_a_link_to_a_scheduled_post_names_both_files_and_the_date(vetrina_build):
    build = vetrina_build({
        "posts/a.md": post(slug="a", body="Presto: [la novità]({filename}b.md)."),
        "posts/b.md": post(slug="b", title="Novità", date="2027-01-10 09:00"),
    })
    assert_only_problem(build, "content/posts/a.md:8: links to content/posts/b.md, scheduled for "
                               "2027-01-10 09:00 +01:00: publish them together or remove the link")


def test_a_link_to_a_draft_fails_the_production_build_that_leaves_the_draft_out(vetrina_build):
    content = {"posts/a.md": post(slug="a", body="Presto: [la bozza]({filename}b.md)."),
               "posts/b.md": post(slug="b", title="Bozza", status="draft")}
    assert vetrina_build(content).ok  # the development build writes drafts under /bozze/
    build = vetrina_build({}, production=True)
    assert_only_problem(build, "content/posts/a.md:8: links to content/posts/b.md, which this build does not "
                               "write (status draft): publish it or remove the link")


@pytest.mark.parametrize("date, message", [
    ("yesterday", "field 'date': 'yesterday' is not a date; " + DATE_FIX),
    ("2026-02-30", "field 'date': '2026-02-30' is not a day of the calendar; write a real date like 2026-11-22 10:15"),
], ids=["words", "impossible day"])
def test_a_bad_post_date_names_file_line_field_and_format(vetrina_build, date, message):
    build = vetrina_build({"posts/data.md": post(date=date)})
    assert_only_problem(build, f"content/posts/data.md:3: {message}")


def test_a_yaml_error_points_at_the_line_of_the_file(vetrina_build):
    broken = "---\ntitle: Chitarra\nslug: rotta\nsku: R-1\nprice: [12\n---\nTesto\n"
    build = vetrina_build({**GOOD_PRODUCT, "products/rotta.md": broken})
    assert_only_problem(build, "content/products/rotta.md:5: the YAML fields are not valid: while parsing a flow "
                               "sequence, expected ',' or ']', but got '<stream end>'; close the bracket or quote "
                               "opened on this line")


def test_a_missing_image_in_a_product_description_names_the_product(vetrina_build):
    text = product_file(slug="foto", sku="F-1", body="Il retro:\n\n![Il retro](/images/retro.jpg)")
    build = vetrina_build({**GOOD_PRODUCT, "products/foto.md": text})
    line = text.splitlines().index("![Il retro](/images/retro.jpg)") + 1
    assert_only_problem(build, f"content/products/foto.md:{line}: image /images/retro.jpg: no such file in the "
                               "content's static folders (images) or in the theme; add the file or correct the path")


@pytest.mark.parametrize("body, message", [
    ("![Una foto](/images/nope.jpg)",
     "image /images/nope.jpg: no such file in the content's static folders (images) or in the theme; add the "
     "file or correct the path"),
    ("![Una foto]({static}/images/manca.png)",
     "image {static}/images/manca.png: there is no file content/images/manca.png; correct the path or remove "
     "the image"),
], ids=["root-relative", "static"])
def test_a_missing_image_in_a_body_names_the_file_and_the_src(vetrina_build, body, message):
    build = vetrina_build({"images/p.png": PNG, "posts/foto.md": post(body=f"![C'è](/images/p.png)\n\n{body}")})
    assert_only_problem(build, f"content/posts/foto.md:10: {message}")


def test_a_page_on_the_catalogue_address_names_the_page_and_the_catalogue(vetrina_build, tmp_path):
    build = vetrina_build({**GOOD_PRODUCT, "pages/prodotti.md": "Title: Prodotti\nSlug: prodotti\n\nPagina.\n"})
    assert_only_problem(build, "content/pages/prodotti.md:2: field 'slug': its output prodotti/index.html is also "
                               "written from the theme's catalog.html template; give it another Slug")


def test_two_pages_with_one_slug_name_both_files(vetrina_build):
    build = vetrina_build({"pages/a.md": "Title: Uno\nSlug: stesso\n\nUno.\n",
                           "pages/b.md": "Title: Due\nSlug: stesso\n\nDue.\n"})
    assert not build.ok
    assert len(build.lines) == 1, build.err
    line = build.lines[0]
    assert "field 'slug': its output stesso/index.html is also written for content/pages/" in line, line
    assert "content/pages/a.md" in line and "content/pages/b.md" in line and "Traceback" not in build.err


def test_every_problem_of_a_build_is_listed_together_without_a_traceback(vetrina_build, tmp_path):
    """Two bad products, bad posts and a collision: one run reports all of them, in one block, and exits 1."""
    build = vetrina_build({
        **GOOD_PRODUCT,
        "products/prezzo.md": product_file(slug="prezzo", sku="P-1", price="12,90"),
        "products/latino.md": product_file(slug="latino", sku="L-1", title="Caffè").encode("latin-1"),
        "posts/ieri.md": post(slug="ieri", date="yesterday"),
        "posts/febbraio.md": post(slug="febbraio", date="2026-02-30"),
        "posts/tag.md": post(slug="etichetta", tags="???"),
        "pages/prodotti.md": "Title: Prodotti\nSlug: prodotti\n\nPagina.\n",
    })
    assert not build.ok
    assert build.header == "6 problems in 6 files:", build.err
    files = [line.split(":")[0] for line in build.lines]
    assert files == sorted(files) == ["content/pages/prodotti.md", "content/posts/febbraio.md",
                                      "content/posts/ieri.md", "content/posts/tag.md", "content/products/latino.md",
                                      "content/products/prezzo.md"]
    assert ("content/products/prezzo.md:7: field 'price': '12,90' is not a price: write it with a dot and no "
            "thousands separator, like 12.90") in build.lines
    printed = build.out + build.err
    assert "Traceback" not in printed and "RuntimeError" not in printed and "Warning or error" not in printed
    assert not (tmp_path / "output").exists()  # nothing to keep: no good build yet
    assert not list(tmp_path.glob(f"{staging_prefix(tmp_path / 'output')}*"))


def test_debug_prints_the_tracebacks_too(vetrina_build):
    build = vetrina_build({"posts/ieri.md": post(date="yesterday")}, debug=True)
    assert not build.ok
    assert build.lines == [f"content/posts/ieri.md:3: field 'date': 'yesterday' is not a date; {DATE_FIX}"]
    printed = " ".join((build.out + build.err).split())  # Pelican's handler wraps long lines
    assert "Traceback (most recent call" in printed and "ValueError: 'yesterday' is not a" in printed
    assert "DEBUG" in printed  # Pelican's debug output


def test_a_clean_build_prints_no_problem_block_and_a_bad_one_keeps_the_last_good_output(vetrina_build, tmp_path):
    good = vetrina_build({"posts/a.md": post(title="Versione buona")})
    assert good.ok and good.header is None, good.err
    bad = vetrina_build({"posts/a.md": post(title="Versione rotta", date="ieri")})
    assert bad.lines == [f"content/posts/a.md:3: field 'date': 'ieri' is not a date; {DATE_FIX}"]
    assert parse(tmp_path / "output" / "blog" / "una-prova" / "index.html").h1.get_text() == "Versione buona"


def test_a_bad_setting_is_one_line_naming_the_settings_file(vetrina_build):
    build = vetrina_build({"posts/a.md": post()}, BUSINESS_VAT_ID="IT123")
    assert_only_problem(build, "settings.py: BUSINESS_VAT_ID 'IT123' is not a valid VAT number")


def test_an_exception_that_stops_the_build_is_one_line_naming_the_template(vetrina_build, tmp_path):
    """A theme whose page template has a syntax error: the build stops there, and says where, in one line."""
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    page = theme / "templates" / "page.html"
    page.write_text(page.read_text(encoding="utf-8") + "{% if %}\n", encoding="utf-8")
    line = len(page.read_text(encoding="utf-8").splitlines())
    build = vetrina_build({"pages/a.md": "Title: Una pagina\nSlug: una-pagina\n\nTesto.\n"}, THEME=str(theme))
    assert not build.ok
    assert len(build.lines) == 1, build.err
    assert build.lines[0].startswith(f"theme/templates/page.html:{line}: the build stopped: TemplateSyntaxError: ")
    assert build.lines[0].endswith("(build again with --debug to see the traceback)")
    assert "Traceback" not in build.out + build.err


def test_a_notice_is_shown_but_does_not_fail_the_build(vetrina_build):
    """The comment server being down is a plugin's notice (as under --fatal warnings): shown, the build goes on."""
    with socket.socket() as probe:  # a port of 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    build = vetrina_build({"posts/a.md": post()}, COMMENTS_ISSO_BUILD_URL=f"http://127.0.0.1:{port}")
    assert build.ok and build.header is None, build.err
    notices = [line for line in build.err.splitlines() if line.startswith("Notice: ")]
    assert len(notices) == 1 and "Isso" in notices[0] and str(port) in notices[0], build.err


# --- a build killed mid-way ------------------------------------------------------------------------------------

KILLABLE_BUILD = textwrap.dedent("""\
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from core.build import build_site
    build_site(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
""")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe to hold a build mid-way")
def test_the_staging_folder_of_a_killed_build_is_removed_by_the_next_build(vetrina_build, tmp_path):
    """A build blocked reading a post (a named pipe nobody writes) is SIGKILLed; the next build cleans up."""
    content, output = tmp_path / "content", tmp_path / "output"
    write_content(content, {"posts/a.md": post()})
    os.mkfifo(content / "posts" / "bloccato.md")
    builder = subprocess.Popen([sys.executable, "-c", KILLABLE_BUILD, str(ROOT / "plugins"), str(tmp_path),
                                str(tmp_path / "settings.py"), str(output), str(content)],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = []
    try:
        while not staging and builder.poll() is None:
            time.sleep(0.05)
            staging = [path for path in tmp_path.iterdir() if path.name.startswith(staging_prefix(output))]
    finally:
        os.killpg(builder.pid, signal.SIGKILL)  # the build and the Pelican process it started
        builder.wait()
    assert len(staging) == 1 and staging[0].is_dir()
    assert staging[0].name.startswith(f"{staging_prefix(output)}{builder.pid}-")

    (content / "posts" / "bloccato.md").unlink()
    build = vetrina_build({})
    assert build.ok, build.err
    assert not staging[0].exists()
    assert (output / "blog" / "una-prova" / "index.html").is_file()


def test_a_review_of_a_product_with_errors_points_at_the_product_file(vetrina_build):
    """A product left out for its errors is not also a mystery in every review that names it."""
    review = ("---\nproduct: P-1\nauthor: Cliente di Modena\ndate: 2026-10-02\nrating: 5\ntitle: Ottima\n---\n\n"
              "Suona bene.\n")
    build = vetrina_build({**GOOD_PRODUCT, "products/prezzo.md": product_file(slug="prezzo", sku="P-1", price="12,90"),
                           "reviews/prezzo-1.md": review})
    assert not build.ok
    assert build.lines == [
        "content/products/prezzo.md:7: field 'price': '12,90' is not a price: write it with a dot and no thousands "
        "separator, like 12.90",
        "content/reviews/prezzo-1.md:2: field 'product': no product has the sku or slug P-1 (or it is in one of the "
        "1 product file(s) with errors listed here: fix those first)",
    ], build.err


def test_a_draft_may_link_to_the_scheduled_post_it_launches(vetrina_build, tmp_path):
    """The launch draft builds; its preview keeps the link's text, without an address that leads nowhere yet."""
    from core import checks

    body = ('Da domani: [la novità]({filename}b.md) e <a href="{filename}b.md" title="La novità">ancora</a>; '
            'intanto [la guida]({filename}c.md).')
    build = vetrina_build({
        "posts/a.md": post(slug="lancio", title="Lancio", status="draft", body=body),
        "posts/b.md": post(slug="b", title="Novità", date="2027-01-10 09:00"),
        "posts/c.md": post(slug="c", title="Guida"),
    })
    assert build.ok, build.err
    draft = tmp_path / "output" / "bozze" / "lancio" / "index.html"
    links = {a.get_text(): a for a in parse(draft).find("article").find_all("a") if a.get_text() in
             ("la novità", "ancora", "la guida")}
    assert "href" not in links["la novità"].attrs
    assert links["la novità"]["title"] == "Scheduled: goes live on 2027-01-10 09:00 +01:00"
    assert "href" not in links["ancora"].attrs and links["ancora"]["title"] == "La novità"  # the writer's own
    assert links["la guida"]["href"].endswith("/blog/c/")  # a live post: linked as ever
    assert not [problem for problem in checks.broken_links(tmp_path / "output") if "bozze/lancio" in problem]
    assert not (tmp_path / "output" / "blog" / "b").exists()


# --- images from other sites: refused by the security policy's img-src unless it allows their origin -------

FOREIGN = "![Una foto](https://altrove.example/foto/chitarra%20rossa.jpg)"
INLINE = ("![Un punto](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAh"
          "KmMIQAAAABJRU5ErkJggg==)")


def test_an_image_from_another_site_a_disk_or_inline_data_names_the_file_line_and_src(vetrina_build):
    product = product_file(slug="cdn", sku="C-1", body="![Il retro](//cdn.example/r.png)")
    line = product.splitlines().index("![Il retro](//cdn.example/r.png)") + 1
    build = vetrina_build({"posts/fuori.md": post(body=f"{FOREIGN}\n\n![Dal disco](file:///C:/Foto/disco.jpg)"),
                           **GOOD_PRODUCT, "products/cdn.md": product,
                           "pages/punto.md": f"Title: Punto\nSlug: punto\n\nUn punto:\n\n{INLINE}\n"})
    assert not build.ok
    assert build.lines == [
        "content/pages/punto.md:6: image data:image/png;base64,iVBORw0K…: an image written into the page, which "
        "the security policy's img-src refuses; save it as a file in content/images/ and write /images/its-name.png",
        "content/posts/fuori.md:8: image https://altrove.example/foto/chitarra%20rossa.jpg: from another site, "
        "which the security policy's img-src refuses (and which would see the address of every reader); copy it "
        "into content/images/ and write /images/chitarra%20rossa.jpg, or allow https://altrove.example in "
        "SITE_CSP_EXTRA['img-src']",
        "content/posts/fuori.md:10: image file:///C:/Foto/disco.jpg: not an address on the web; copy the file into "
        "content/images/ and write /images/disco.jpg",
        f"content/products/cdn.md:{line}: image //cdn.example/r.png: from another site, which the security policy's "
        "img-src refuses (and which would see the address of every reader); copy it into content/images/ and "
        "write /images/r.png, or allow https://cdn.example in SITE_CSP_EXTRA['img-src']",
    ], build.err


def test_an_image_from_an_origin_the_policy_allows_is_no_problem(vetrina_build, tmp_path):
    build = vetrina_build({"posts/fuori.md": post(slug="fuori", body=FOREIGN)},
                          SITE_CSP_EXTRA={"img-src": ["https://altrove.example/foto/"]})
    assert build.ok, build.err
    image = parse(tmp_path / "output" / "blog" / "fuori" / "index.html").select_one(".prose img")
    assert image["src"] == "https://altrove.example/foto/chitarra%20rossa.jpg"
    assert "img-src 'self' https://altrove.example/foto/" in (tmp_path / "output" / "_headers").read_text("utf-8")
