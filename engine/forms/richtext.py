"""Rich text is HTML kept to a small, harmless subset, sanitised on the server with nh3.

nh3 (bindings to the Rust ``ammonia`` sanitiser) parses the HTML the way a
browser does and keeps only the tags and attributes listed here: no
``<script>`` or ``<style>`` (their content is dropped too), no event handler
attributes, no ``style``, and links only to http, https and mailto addresses.
The record service stores what this returns, and the record page sanitises
again when it renders, so text that reached the database another way (an
import, a restore of an older backup) is never rendered raw.
"""

from __future__ import annotations

import nh3

TAGS = {
    "p", "br", "div", "b", "strong", "i", "em", "u", "s", "ul", "ol", "li",
    "a", "h2", "h3", "h4", "blockquote", "code", "pre",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str) -> str:
    """``html`` with everything outside the allowed subset removed."""
    if not html:
        return html
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


__all__ = ["sanitize_html"]
