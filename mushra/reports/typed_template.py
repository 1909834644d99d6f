"""The page of an ACR, SMOS, CMOS, A/B or ABX report: one Jinja2 template with inline CSS.

It lives in a Python string rather than in ``templates/`` so that the typed reports stay in
their own modules; it is rendered with autoescaping (condition and listener names come from
scientists and from the platform) and the style of the MUSHRA report (report.html.j2), so both
kinds of report look alike on screen and in the PDF. Every number arrives formatted; the
template only lays it out.
"""

from __future__ import annotations

import functools

import jinja2

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  @page { size: A4; margin: 15mm 15mm 17mm;
    @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
  html { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 10pt;
    color: #1a1a1a; line-height: 1.4; }
  body { max-width: 190mm; margin: 0 auto; padding: 0 4mm; }
  h1 { font-size: 17pt; margin: 0 0 2pt; }
  h2 { font-size: 12.5pt; margin: 16pt 0 5pt; border-bottom: 1px solid #bbb; padding-bottom: 2pt;
    break-after: avoid; page-break-after: avoid; }
  h3 { font-size: 10.5pt; margin: 10pt 0 4pt; break-after: avoid; page-break-after: avoid; }
  p { margin: 4pt 0; }
  .sub { color: #555; margin: 0; }
  .note { color: #555; font-size: 8.5pt; }
  table { border-collapse: collapse; margin: 4pt 0 6pt; font-size: 8.5pt; }
  table.data { width: 100%; }
  table.data th, table.data td { padding: 2pt 4pt; border-bottom: 1px solid #e2e2e2;
    text-align: left; vertical-align: top; }
  table.data thead th { border-bottom: 1.5px solid #555; font-weight: 600; }
  table.kv td { padding: 1pt 10pt 1pt 0; vertical-align: top; }
  table.kv td:first-child { color: #555; white-space: nowrap; }
  .num { text-align: right !important; font-variant-numeric: tabular-nums; }
  td.num { white-space: nowrap; }
  td.name { overflow-wrap: break-word; }  /* whole words set the width; a long name wraps */
  .sig { font-weight: 700; white-space: nowrap; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  figure { margin: 6pt 0 8pt; }
  figure svg { width: 100%; height: auto; display: block; }
  figcaption { font-size: 8.5pt; color: #444; margin-top: 2pt; }
</style>
</head>
<body>
{% macro table(t) %}
<table class="data" id="{{ t.id }}">
  <thead><tr>
    {% for label, cls in t.columns %}<th class="{{ cls }}">{{ label }}</th>{% endfor %}
  </tr></thead>
  <tbody>
  {% for row in t.rows %}
    <tr>{% for value, cls in row %}<td class="{{ cls }}">{{ value }}</td>{% endfor %}</tr>
  {% endfor %}
  </tbody>
</table>
{% for note in t.notes %}<p class="note">{{ note }}</p>{% endfor %}
{% endmacro %}
<header>
  <h1>{{ title }}</h1>
  <p class="sub">Source: {{ source }}</p>
  {% if question %}<p class="sub question">Question asked: “{{ question }}”</p>{% endif %}
</header>

<h2>Design</h2>
<table class="kv" id="design">
{% for key, value in design %}  <tr><td>{{ key }}</td><td>{{ value }}</td></tr>
{% endfor %}
</table>

{% if screening %}
<h2>Listener screening</h2>
{% if screening.on %}
<p>ITU-T P.808 rules, as Microsoft's P.808 toolkit applies them:</p>
<ul>{% for rule in screening.rules %}<li>{{ rule }}</li>{% endfor %}</ul>
{% if screening.excluded %}{{ table(screening.excluded) }}
{% else %}<p>No listener was excluded.</p>{% endif %}
{% if screening.unscreened %}{{ table(screening.unscreened) }}{% endif %}
{% else %}
<p>No screening ({{ screening.rules | join("; ") }}): every listener is analysed.</p>
{% endif %}
{% endif %}

<h2>Results</h2>
<figure>
  {{ figure }}
  <figcaption>{{ caption }}</figcaption>
</figure>

{% for s in sections %}
<h3>{{ s.title }}</h3>
{% for line in s.intro %}<p>{{ line }}</p>{% endfor %}
{% for t in s.tables %}{{ table(t) }}{% endfor %}
{% endfor %}

{% if notes %}
<h2>Notes</h2>
{% for note in notes %}<p class="note data-note">Note: {{ note }}</p>{% endfor %}
{% endif %}

<h2>Methods</h2>
<p class="methods">{{ methods }}</p>
</body>
</html>
"""


@functools.cache
def page() -> jinja2.Template:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.from_string(PAGE)
