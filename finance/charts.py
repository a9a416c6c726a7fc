"""The balance chart on [Balance Management]: an SVG drawn on the server by pygal.

pygal renders the whole chart as SVG in Python, so the page needs no JavaScript and no
CDN. Its default config links pygal's tooltip script from the web (`js=[]` turns that
off), and it always writes a small inline <script> with its config for that tooltip
script: it is taken out of the tree before the SVG is serialised, so the chart runs
nothing at all.
"""

from datetime import date
from decimal import Decimal

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.etree import etree
from pygal.style import Style

from distribution.money import DEFAULT_CURRENCY, quantize

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#495057",
    foreground_strong="#212529",
    foreground_subtle="#dee2e6",
    colors=("#0d6efd",),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans SC', sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    tooltip_font_size=13,
)


def _amount(value) -> str:
    return f"{quantize(Decimal(value), DEFAULT_CURRENCY):,}"


def balance_chart(series: list[tuple[date, Decimal]], *, title: str) -> SafeString:
    """The balance at the end of each day in `series`, as an inline <svg> (scales to its box)."""
    chart = pygal.Line(
        js=[],
        style=STYLE,
        disable_xml_declaration=True,
        width=760,
        height=300,
        fill=True,
        show_legend=False,
        show_minor_x_labels=False,
        x_labels_major_every=7,
        truncate_label=-1,
        dots_size=2.5,
        min_scale=3,
        max_scale=6,
        margin=8,
        include_x_axis=True,
        value_formatter=_amount,
        no_data_text="",
    )
    chart.x_labels = [day.strftime("%m-%d") for day, _value in series]
    chart.add(title, [quantize(value, DEFAULT_CURRENCY) for _, value in series])
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    # The markup is pygal's, built as an element tree: every label and value in it is escaped.
    return mark_safe(etree.tostring(root, encoding="unicode"))  # noqa: S308
