"""The files of a new shop: its settings, its legal pages as drafts to review, one example post and product."""

from __future__ import annotations

import datetime as dt
import io

SETTINGS = '''"""Settings of {name}: the engine's first, then only what is this shop's own."""

from vetrina.defaults import *  # noqa: F401,F403  (URLs, plugins, theme, feeds: updated with Vetrina)

# --- Site -------------------------------------------------------------------
SITENAME = {name!r}
SITESUBTITLE = ""
SITE_DESCRIPTION = {description!r}
AUTHOR = {name!r}
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = {lang!r}
SITE_LANGUAGES = ({lang!r},)

# --- The business behind the shop (footer, legal pages, structured data) ----
BUSINESS_NAME = {name!r}
BUSINESS_LEGAL_NAME = {legal_name!r}
BUSINESS_STREET = {street!r}
BUSINESS_POSTAL_CODE = {postal_code!r}
BUSINESS_CITY = {city!r}
BUSINESS_REGION = {region!r}
BUSINESS_COUNTRY = "IT"
BUSINESS_VAT_ID = {vat_id!r}
BUSINESS_EMAIL = {email!r}
BUSINESS_PHONE = {phone!r}

# --- Shop -------------------------------------------------------------------
SHOP_CURRENCY = {currency!r}
SHOP_ORDER_EMAIL = {email!r}
SHOP_SHIPPING_COUNTRIES = ["IT"]
# Shipping classes with their rate and days in transit; products name theirs (shipping_class).
SHOP_SHIPPING_CLASSES = {{"standard": {{"rate": "9.90", "transit_days": [1, 3]}}}}
SHOP_DEFAULT_SHIPPING_CLASS = "standard"
SHOP_FREE_SHIPPING_FROM = "100.00"
SHOP_HANDLING_DAYS = [1, 2]
SHOP_RETURN_DAYS = 14
SHOP_RETURN_FEES = "customer"
SEO_ORGANIZATION_AUTHORS = [{name!r}]
'''

PUBLISH = '''"""Production settings: everything comes from pelicanconf.py, only these override it."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("VETRINA_SITEURL", {url!r}).rstrip("/")
RELATIVE_URLS = False
# Drafts are never published; a production build refuses while a legal page is still one (SITE_LEGAL_PAGES).
DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = DRAFT_PAGE_SAVE_AS = DRAFT_PAGE_LANG_SAVE_AS = ""
PUBLISH_TARGET = ""
COMMENTS_ISSO_URL = os.environ.get("VETRINA_ISSO_URL", SITEURL + "/isso")
FORMS_ENDPOINT = os.environ.get("VETRINA_FORMS_URL", SITEURL + "/moduli")
FORMS_TRUSTED_PROXIES = ("127.0.0.1", "::1")
'''

GITIGNORE = """output/
cache/
.isso/
.forms/
imports/.lock
imports/*.journal
__pycache__/
"""

REVIEW = ("Bozza da rivedere: è un punto di partenza, non un parere legale. Controlla ogni frase con il tuo "
          "consulente, poi togli la riga `Status: draft` in cima al file.")


def page(title: str, slug: str, summary: str, body: str, draft: bool = True, template: str = "") -> str:
    header = [f"Title: {title}", f"Slug: {slug}", f"Summary: {summary}", "Lang: it"]
    header += [f"Template: {template}"] if template else []
    header += ["Status: draft"] if draft else []
    return "\n".join(header) + "\n\n" + body.strip() + "\n"


def pages(f) -> dict[str, str]:
    who = f"{f.legal_name}, {f.street}, {f.postal_code} {f.city}, partita IVA {f.vat_id}"
    return {
        "chi-siamo": page("Chi siamo", "chi-siamo", f"Chi c'è dietro {f.name}: la storia del negozio, come scegliamo "
                          "quello che vendiamo e come lavoriamo.", f"""
{REVIEW}

{f.name} è un negozio di {f.city}. Racconta qui chi siete, da quanto tempo lavorate, come scegliete i prodotti e
perché un cliente dovrebbe fidarsi di voi. Una foto del negozio o del laboratorio aiuta.

Titolare: {who}.
"""),
        "spedizioni-e-resi": page("Spedizioni e resi", "spedizioni-e-resi", "Costi e tempi di consegna, diritto di "
                                  "recesso di 14 giorni, resi e rimborsi, garanzia legale di conformità.", f"""
{REVIEW}

## Spedizioni

Spediamo in Italia. Il costo della spedizione è indicato accanto a ogni prezzo e nel carrello, prima dell'ordine;
sopra la soglia indicata la spedizione è gratuita.

## Diritto di recesso

Hai 14 giorni dalla consegna per recedere dal contratto senza dare spiegazioni, con il modulo della pagina
[recesso]({{filename}}recesso.md). Il rimborso arriva entro 14 giorni dalla comunicazione del recesso.

## Garanzia legale

I prodotti hanno la garanzia legale di conformità prevista dal Codice del Consumo. Per qualsiasi problema scrivi a
{f.email}.
"""),
        "privacy": page("Informativa sulla privacy", "privacy", "Quali dati personali trattiamo per ordini, commenti "
                        "e newsletter, su quali basi, per quanto tempo e come esercitare i tuoi diritti.", f"""
{REVIEW}

Titolare del trattamento: {who}, e-mail {f.email}.

Trattiamo i dati che ci dai per eseguire gli ordini (nome, indirizzo, e-mail), per pubblicare i commenti che scrivi
e, solo con il tuo consenso, per mandarti la newsletter. Non vendiamo i dati a nessuno. Puoi chiedere in ogni momento
di vederli, correggerli o cancellarli scrivendo a {f.email}, e puoi rivolgerti al Garante per la protezione dei dati
personali.
"""),
        "cookie": page("Cookie", "cookie", "Quali cookie e quale memoria del browser usa il sito: nessun cookie di "
                       "profilazione, solo ciò che serve al carrello e ai commenti.", """
Bozza da rivedere: descrive il sito come Vetrina lo costruisce. Se aggiungi servizi di terze parti, aggiornala.

Il sito non usa cookie di profilazione né strumenti di statistica di terze parti. Il carrello è conservato nella
memoria del tuo browser (localStorage) e non ci viene inviato finché non mandi l'ordine. I commenti, se li scrivi,
ricordano il tuo nome nel browser per la volta successiva.
"""),
        "termini-e-condizioni": page("Termini e condizioni di vendita", "termini-e-condizioni", "Le condizioni "
                                     "generali di vendita: chi vende, prezzi IVA inclusa, pagamento, consegna, "
                                     "recesso e garanzia.", f"""
{REVIEW}

Il venditore è {who}. I prezzi sono in {f.currency}, IVA inclusa; il costo della consegna è indicato prima
dell'ordine. Il contratto si conclude quando confermiamo l'ordine per e-mail. Il diritto di recesso e la garanzia
legale sono descritti nella pagina [spedizioni e resi]({{filename}}spedizioni-e-resi.md).
"""),
        "contatti": page("Contatti", "contatti", f"Come raggiungere {f.name}: indirizzo, telefono ed e-mail, e gli "
                         "orari in cui rispondiamo.", f"""
{REVIEW}

- Indirizzo: {f.street}, {f.postal_code} {f.city}
- Telefono: {f.phone}
- E-mail: {f.email}

Scrivi qui gli orari del negozio e in quanto tempo rispondete di solito.
"""),
        "newsletter": page("Newsletter", "newsletter", "Una lettera con le novità del negozio e gli articoli del "
                           "blog: come iscriversi, cosa ricevi e come cancellarti con un clic.", """
Scrivi qui ogni quanto mandate la newsletter e che cosa contiene. Ci si iscrive con il modulo di questa pagina e si
conferma con un clic nell'e-mail che arriva subito dopo; ci si cancella con il link in fondo a ogni lettera.
""", template="newsletter"),
        "recesso": page("Recesso dal contratto", "recesso", "Il modulo per recedere da un acquisto entro 14 giorni "
                        "dalla consegna: nome, numero d'ordine ed e-mail, poi la conferma e la ricevuta per e-mail.", """
Hai 14 giorni dalla consegna per cambiare idea su un acquisto, senza dare spiegazioni. Compila il modulo qui sotto,
rivedi la dichiarazione nella pagina successiva e confermala con il pulsante «Conferma il recesso»: te ne mandiamo
subito una copia per e-mail, con data e ora.
""", draft=False, template="withdrawal"),
    }


def post(f, today: dt.date, uid: str) -> str:
    return f"""Title: Benvenuti nel nuovo sito di {f.name}
Slug: benvenuti
Date: {today.isoformat()} 00:00
Category: Notizie
Tags: negozio
Summary: Il nuovo sito di {f.name}: il catalogo, il blog con i consigli e la newsletter, in un posto solo.
Lang: {f.lang}
Uid: {uid}
Image: images/posts/benvenuti.jpg
Image_alt: Un rettangolo colorato al posto della foto di apertura

Questo è il primo articolo del blog: cambialo o cancellalo. Ogni articolo è un file Markdown in `content/posts/`;
`vetrina new-post "Titolo"` ne scrive uno nuovo con tutti i campi.
"""


def product(f, today: dt.date, uid: str) -> str:
    return f"""---
title: "Prodotto di esempio"
slug: prodotto-di-esempio
date: {today.isoformat()} 00:00
uid: {uid}
sku: ESEMPIO-1
price: "19.90"
currency: {f.currency}
availability: in_stock
condition: new
brand: "{f.name}"
category: Esempi
tags: [esempio]
summary: "Un prodotto di esempio: cambia nome, prezzo, foto e descrizione, oppure cancella il file."
images:
  - src: images/products/esempio.jpg
    alt: "Un rettangolo colorato al posto della foto del prodotto"
weight: 0.5
shipping_class: standard
digital: false
featured: true
status: draft
---

Ogni prodotto è un file in `content/products/`; `vetrina new-product "Nome"` ne scrive uno nuovo con tutti i campi.
Questo è una bozza: togli `status: draft` per vederlo nel catalogo.
"""


def texts(f, today: dt.date, post_uid: str, product_uid: str) -> dict[str, str]:
    facts = vars(f) | {"description": f"{f.name}: il negozio online di {f.city}, con il catalogo e il blog."}
    files = {"pelicanconf.py": SETTINGS.format(**facts), "publishconf.py": PUBLISH.format(**facts),
             ".gitignore": GITIGNORE, "content/posts/benvenuti.md": post(f, today, post_uid),
             "content/products/prodotto-di-esempio.md": product(f, today, product_uid)}
    files |= {f"content/pages/{slug}.md": text for slug, text in pages(f).items()}
    return files


def example_photo() -> bytes:
    """A plain 1200x900 JPEG to stand in for the example product's photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), (236, 228, 214))
    ImageDraw.Draw(image).rectangle((300, 225, 900, 675), fill=(176, 92, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
