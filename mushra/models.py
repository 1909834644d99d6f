"""Models arrive with their issues; the app exists so the layout of DESIGN.md §3 holds."""
