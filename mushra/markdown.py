"""Scientist-written Markdown (test instructions) made safe to show to listeners.

markdown-it with raw HTML switched off escapes any tag a scientist (or an attacker with a staff
account) writes, and its link validation drops javascript:, vbscript:, file: and data: URLs (except
images), so no script can reach a listener's page through the instructions.
"""

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> str:
    return _md.render(text or "")
