"""Production settings: everything comes from pelicanconf.py, only these override it."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F403

# The shop's public address; set VETRINA_SITEURL to publish under another domain.
SITEURL = os.environ.get("VETRINA_SITEURL", "https://www.cordeelegni.example").rstrip("/")
RELATIVE_URLS = False

# Isso on the shop's own domain (behind the web server: see README); the build may reach it elsewhere.
COMMENTS_ISSO_URL = os.environ.get("VETRINA_ISSO_URL", SITEURL + "/isso")
