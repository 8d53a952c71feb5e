"""Which matcher grammar a context reads with, from its peers' versions (0.25 to 0.34)."""

from __future__ import annotations

from oncall_tui.domain.am_versions import capabilities, cluster_grammar
from oncall_tui.domain.matchers import FilterError, Grammar, parse_filter


def test_0_25_and_0_26_read_classic_0_27_on_read_utf8_with_fallback() -> None:
    assert capabilities("0.25.0").matcher_grammar is Grammar.CLASSIC
    assert capabilities("0.26.0").matcher_grammar is Grammar.CLASSIC
    for version in ("0.27.0", "0.28.1", "0.32.0", "0.34.0"):
        assert capabilities(version).matcher_grammar is Grammar.FALLBACK


def test_a_cluster_reads_classic_unless_every_peer_is_0_27_or_later() -> None:
    new, old = capabilities("0.28.0"), capabilities("0.25.0")
    assert cluster_grammar([new, new]) is Grammar.FALLBACK
    assert cluster_grammar([new, old]) is Grammar.CLASSIC
    assert cluster_grammar([new, None]) is Grammar.CLASSIC  # a peer not heard from yet
    assert cluster_grammar([]) is Grammar.CLASSIC


def test_a_utf8_name_is_a_filter_on_0_27_and_an_error_on_0_25() -> None:
    assert parse_filter("service.name=checkout", Grammar.FALLBACK).matchers[0].name == (
        "service.name"
    )
    try:
        parse_filter("service.name=checkout", Grammar.CLASSIC)
    except FilterError as exc:
        assert "bad matcher format" in exc.message
    else:
        raise AssertionError("0.25 reads service.name=checkout as no matcher at all")


def test_the_board_splits_at_spaces_and_falls_back_to_the_servers_reading() -> None:
    """Words are ours: `state=active soon` is a matcher and a word; text that only the
    server's list grammar reads (`a = b`) means what it means there."""
    f = parse_filter("state=active soon")
    assert [(m.name, m.value) for m in f.matchers] == [("state", "active")]
    assert f.words == ("soon",)
    assert [(m.name, m.op, m.value) for m in parse_filter("a = b").matchers] == [("a", "=", "b")]
    assert parse_filter("{foo=bar\\n}").matchers[0].value == "bar\n"
