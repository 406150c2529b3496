"""normalize_phone remembers its answers: the remembered answer must be the parsed one.

An import normalises each phone twice (the cell, then its match key) and every stored
phone once when the duplicate index loads; the cache makes the second ask a lookup. It
relies on an E.164 answer normalising to itself, which these tests check on generated
numbers written the ways people write them.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.forms import cleansing as importer  # the cache lives with the cleansing
from engine.forms.cleansing import normalize_phone

_SEPARATORS = st.sampled_from(["", " ", "-", ".", "  "])


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A phone number as someone might type it: a prefix, digit groups, separators."""
    prefix = draw(st.sampled_from(["", "+86 ", "0086 ", "+1 ", "+44 ", "0", "(021) ", "+"]))
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=4))
    sep = draw(_SEPARATORS)
    return prefix + sep.join(groups)


@given(text=written_numbers(), region=st.sampled_from(["CN", "US", "GB"]))
def test_the_remembered_answer_is_the_parsed_answer(text: str, region: str) -> None:
    parsed, valid = importer._parse_phone(text, region)
    assert normalize_phone(text, region) == parsed
    assert normalize_phone(text, region) == parsed  # the second ask: from the cache
    if valid:
        # an E.164 answer is its own answer, in every region: what the cache assumes
        for other in ("CN", "US", "GB"):
            assert importer._parse_phone(parsed, other) == (parsed, True)
        assert normalize_phone(parsed, region) == parsed


def test_the_cache_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(importer, "_PHONE_CACHE_CAP", 4)
    importer._PHONE_CACHE.clear()
    for i in range(10):
        assert normalize_phone(f"138 0013 80{i:02d}", "CN") == f"+86138001380{i:02d}"
    assert len(importer._PHONE_CACHE) <= 5
