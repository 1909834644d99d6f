"""Listener pages and JSON endpoints (``listener``: anonymous, a session token is the key) and
scientist pages (``scientist``: members of the test's project, ``evalsite.access``)."""
