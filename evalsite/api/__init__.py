"""The REST API under /api/v1/ (DESIGN.md §10): thin views (validate → service → serialize) over
the same services and access policy as the pages; errors are ``{"error", "problems"}``."""
