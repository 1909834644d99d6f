"""Pages of the site itself: the landing page and health check (``site``), and a scientist's
projects, members and API tokens (``projects``)."""
