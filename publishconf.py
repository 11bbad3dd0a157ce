"""Production settings: everything comes from pelicanconf.py, only these override it."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F403

# The shop's public address; set VETRINA_SITEURL to publish under another domain.
SITEURL = os.environ.get("VETRINA_SITEURL", "https://www.cordeelegni.example").rstrip("/")
RELATIVE_URLS = False

# Drafts are never published: Pelican writes no file for an empty *_SAVE_AS (previews stay in the dev build).
DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = DRAFT_PAGE_SAVE_AS = DRAFT_PAGE_LANG_SAVE_AS = ""

# Where `invoke publish` uploads (--target and $VETRINA_PUBLISH_TARGET win): a folder, user@host:/path or git:BRANCH.
PUBLISH_TARGET = ""
PUBLISH_KEEP_RELEASES = 5  # releases kept on the target; the one before the live one is the rollback
PUBLISH_SHELL = True  # False when the host gives rsync but no shell (no releases: an in-place, best-effort upload)

# Isso on the shop's own domain (behind the web server: see README); the build may reach it elsewhere.
COMMENTS_ISSO_URL = os.environ.get("VETRINA_ISSO_URL", SITEURL + "/isso")

# The forms endpoint on the shop's own domain, behind the same web server as Isso (see README).
FORMS_ENDPOINT = os.environ.get("VETRINA_FORMS_URL", SITEURL + "/moduli")
FORMS_TRUSTED_PROXIES = ("127.0.0.1", "::1")
# With the unsubscribe key set, each newsletter's List-Unsubscribe points at the endpoint (one-click on https).
if os.environ.get("VETRINA_NEWSLETTER_SECRET"):
    NEWSLETTER_UNSUBSCRIBE_URL = FORMS_ENDPOINT + "/unsubscribe"
    NEWSLETTER_UNSUBSCRIBE_POST = FORMS_ENDPOINT.startswith("https://")
