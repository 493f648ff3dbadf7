"""The analysis pages' link to the same page in the other language opens that page: a parameter left at its
default is left out of the link, not written as the text 'None' (which the page then refuses)."""

from __future__ import annotations

import html
import re

import pytest


@pytest.mark.parametrize("path", ["/map/coverage", "/map/hotspots", "/map/density", "/map/priority",
                                  "/map/coverage?lang=en&kind=toilets"])
def test_other_language_link_opens_the_page(demo_client, path):
    page = demo_client.get(path)
    assert page.status_code == 200, page.text
    links = re.findall(r'<a href="(\?[^"]*)">(?:English|中文)</a>', page.text)
    assert len(links) == 1, "one link to the other language"
    query = html.unescape(links[0])
    assert "None" not in query, query
    other = demo_client.get(path.split("?")[0] + query)
    assert other.status_code == 200, (query, other.text)
    assert ("lang=zh" in query) == ("lang=en" in path)
