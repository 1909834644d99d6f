"""Helpers of the interface-language tests: the catalogues, the strings the sources mark, and
the English words a translated listener page must not show."""

import ast
import io
import json
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.utils.translation import trans_real
from django.utils.translation.template import templatize

from evalsite.catalogues import LOCALE, compile_catalogues

ROOT = LOCALE.parent
LANGS = ("de", "fr", "es", "ja", "zh_Hans")  # every interface language but English
DOMAINS = ("django", "djangojs")
GETTEXT = {  # function → (index of the context argument or None, index of the msgid)
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}|</?\w+")  # and HTML tags
WORD = re.compile(r"[A-Za-z][A-Za-z']+")  # two letters or more: "R" is a key cap


def ensure_compiled() -> None:
    """Build stale .mo files (as `make test` does) and drop the translations Django cached."""
    if compile_catalogues():
        trans_real._translations = {}
        trans_real._default = None


def catalogue(lang: str, domain: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# --- What the sources mark -----------------------------------------------------------------------


def _flush_left(source: str) -> str:
    return "\n".join(line.lstrip() for line in source.splitlines())


def _from_tokens(source: str) -> set[tuple[str | None, str]]:
    """gettext-family calls with literal arguments, from Python-like source (templatize's)."""
    tokens = [
        t
        # Indentation means nothing here (templatize keeps the template's): dropped.
        for t in tokenize.generate_tokens(io.StringIO(_flush_left(source)).readline)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
    ]
    found = set()
    for i, tok in enumerate(tokens[:-2]):
        if tok.type != tokenize.NAME or tok.string not in GETTEXT or tokens[i + 1].string != "(":
            continue
        args = [t for t in tokens[i + 2 : i + 6] if t.type == tokenize.STRING]
        context, index = GETTEXT[tok.string]
        context_value = ast.literal_eval(args[0].string) if context is not None else None
        found.add((context_value, ast.literal_eval(args[index].string)))
    return found


def template_strings(paths) -> set[tuple[str | None, str]]:
    """The strings {% translate %} and {% blocktranslate %} mark, extracted as makemessages
    does (Django's templatize)."""
    found = set()
    for path in paths:
        found |= _from_tokens(templatize(Path(path).read_text(), origin=str(path)))
    return found


def python_strings(paths) -> set[tuple[str | None, str]]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT):
                continue
            context, index = GETTEXT[node.func.id]
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if len(args) > index and isinstance(args[index], str):
                found.add((args[context] if context is not None else None, args[index]))
    return found


_JS_CALL = re.compile(r"(?<![\w.$])(gettext|pgettext)\(")
_JS_STRING = re.compile(r"\s*(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')\s*")


def js_strings(paths) -> set[tuple[str | None, str]]:
    """gettext("…") and pgettext("ctx", "…") calls, literals joined by + included."""
    found = set()
    for path in paths:
        source = Path(path).read_text()
        for call in _JS_CALL.finditer(source):
            args, at, current = [], call.end(), ""
            while match := _JS_STRING.match(source, at):
                literal = match[1]
                if literal[0] == "'":
                    literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
                current += json.loads(literal)
                at = match.end()
                if source.startswith("+", at):
                    at += 1
                    continue
                args.append(current)
                current = ""
                if not source.startswith(",", at):
                    break
                at += 1
            if call[1] == "pgettext" and len(args) >= 2:
                found.add((args[0], args[1]))
            elif call[1] == "gettext" and args:
                found.add((None, args[0]))
    return found


def marked_strings() -> dict[str, set[tuple[str | None, str]]]:
    """Every string the listener interface marks, by gettext domain."""
    py = [
        p
        for folder in ("evalsite", "mushra", "synth_workers")
        for p in (ROOT / folder).rglob("*.py")
        if "migrations" not in p.parts
    ]
    return {
        "django": template_strings((ROOT / "templates").rglob("*.html")) | python_strings(py),
        "djangojs": js_strings((ROOT / "static").rglob("*.js")),
    }


# --- What a page shows ---------------------------------------------------------------------------


def english_words() -> set[str]:
    """The words of the English interface (every msgid), less those a translation keeps on
    purpose (JavaScript, Prolific, kHz, ID …: they appear in the Japanese catalogue too)."""
    words, kept = set(), set()
    for domain in DOMAINS:
        for entry in catalogue("ja", domain):
            for text in (entry.msgid, entry.msgid_plural):
                words |= {w.lower() for w in WORD.findall(re.sub(r"<[^>]+>|%\(\w+\)s", " ", text))}
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                kept |= {w.lower() for w in WORD.findall(text)}
    return words - kept


class _Visible(HTMLParser):
    """The text a browser shows (no script or style), and the title and labels it displays."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(parser.parts)


def english_shown(text: str, allowed: str = "") -> set[str]:
    """The English interface words in `text`, except those of `allowed` (a scientist's text)."""
    allowed_words = {w.lower() for w in WORD.findall(allowed)}
    return {w for w in WORD.findall(text) if w.lower() in english_words() - allowed_words}
