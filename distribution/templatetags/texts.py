"""`{{ record.message|shown }}`: a stored sentence of ours in the reader's language (distribution/texts.py)."""

from django import template

from distribution.texts import shown as shown_text

register = template.Library()


@register.filter
def shown(text):
    return shown_text(text)
