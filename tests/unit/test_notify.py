"""Terminal notifications: which alerts notify, what is said, and the exact bytes written.

The text is untrusted: whatever an alert carries, the bytes hold one escape sequence per
notification, framed by us, and nothing inside it a terminal would execute.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.config import ConfigError, parse_settings
from oncall_tui.domain.board import BoardAlert, BoardGroup, make_group
from oncall_tui.domain.new_alerts import (
    FiringTally,
    NewAlertWatch,
    notify_rule,
    summarise,
    title_text,
)
from oncall_tui.domain.terminal_notify import (
    POP_TITLE,
    PUSH_TITLE,
    choose_protocol,
    for_terminal,
    notification,
    set_title,
    tmux_passthrough,
)

R = "\N{REPLACEMENT CHARACTER}"
HOSTILE = "Evil\x1b]2;pwned\x07\x1b[2J\x9c\x9d52;c;QQ==\x07 ok\x1b\\;x\u202e"
SHOWN = f"Evil{R}]2;pwned{R}{R}[2J{R}{R}52;c;QQ=={R} ok{R}\\;x{R}"  # as the board shows it


def alert(
    name: str,
    severity: str = "critical",
    *,
    cluster: str = "prod",
    state: str = "active",
    team: str = "ml",
    summary: str = "",
) -> BoardAlert:
    labels = {"alertname": name, "severity": severity, "team": team}
    return BoardAlert(
        key=f"{cluster}/{name}",
        cluster=cluster,
        fingerprint=name,
        name=name,
        severity=severity,
        state=state,
        labels=labels,
        annotations={"summary": summary} if summary else {},
        started=None,
    )


def groups_of(*alerts: BoardAlert) -> list[BoardGroup]:
    return [make_group(a.cluster, "pager", (("alertname", a.name),), [a]) for a in alerts]


# -- which alerts notify ---------------------------------------------------------------------


def test_only_alerts_that_start_firing_after_the_first_answer_notify() -> None:
    watch = NewAlertWatch()
    old = alert("AlreadyFiring")
    assert watch.observe(groups_of(old), answered=["prod"]) == []  # start-up: not news
    new = alert("DiskFull")
    assert [a.name for a in watch.observe(groups_of(old, new), ["prod"])] == ["DiskFull"]
    assert watch.observe(groups_of(old, new), ["prod"]) == []  # told once
    # Gone, then back: it fires again, so it is news again.
    watch.observe(groups_of(old), ["prod"])
    assert [a.name for a in watch.observe(groups_of(old, new), ["prod"])] == ["DiskFull"]


def test_a_first_poll_that_failed_is_no_baseline() -> None:
    watch = NewAlertWatch()
    assert watch.observe([], answered=[]) == []  # the server did not answer
    # The first answer shows what fired all along: no storm of old alerts.
    assert watch.observe(groups_of(alert("A"), alert("B")), ["prod"]) == []
    assert watch.observe(groups_of(alert("A"), alert("C")), ["prod"])[0].name == "C"


def test_a_cluster_that_answers_late_is_taken_as_it_is_then() -> None:
    watch = NewAlertWatch()
    eu = alert("EuOld", cluster="eu")
    watch.observe(groups_of(alert("A")), ["prod"])  # eu down at start
    assert watch.observe(groups_of(alert("A"), eu), ["prod", "eu"]) == []
    us = alert("UsNew", cluster="eu")
    assert [a.name for a in watch.observe(groups_of(eu, us), ["prod", "eu"])] == ["UsNew"]


def test_the_watchdog_is_never_news() -> None:
    watch = NewAlertWatch(notify_rule(["none", "critical"], []), skip=frozenset({"Watchdog"}))
    watch.observe([], ["prod"])
    fired = watch.observe(groups_of(alert("Watchdog", "none"), alert("Down")), ["prod"])
    assert [a.name for a in fired] == ["Down"]


def test_silenced_pending_and_unmatched_alerts_do_not_notify_until_they_fire() -> None:
    watch = NewAlertWatch()
    watch.observe([], ["prod"])
    quiet = [
        alert("Silenced", state="silenced"),
        alert("Inhibited", state="inhibited"),
        alert("Warn", "warning"),
    ]
    assert watch.observe(groups_of(*quiet), ["prod"]) == []
    # New to the board while silenced: it notifies when it first fires unsilenced.
    fires = alert("Silenced")
    assert [a.name for a in watch.observe(groups_of(fires, *quiet[1:]), ["prod"])] == ["Silenced"]


def test_the_config_widens_or_narrows_what_notifies() -> None:
    ml_only = NewAlertWatch(notify_rule([], ['team="ml" severity=~"critical|warning"']))
    ml_only.observe([], ["prod"])
    alerts = [
        alert("MlWarn", "warning"),
        alert("WebCrit", team="web"),
        alert("MlInfo", "info"),
    ]
    assert [a.name for a in ml_only.observe(groups_of(*alerts), ["prod"])] == ["MlWarn"]
    wider = NewAlertWatch(notify_rule(["critical", "Warning"], []))
    wider.observe([], ["prod"])
    assert sorted(a.name for a in wider.observe(groups_of(*alerts), ["prod"])) == [
        "MlWarn",
        "WebCrit",
    ]


def test_config_validates_notifications() -> None:
    settings_ = parse_settings({"notifications": {"protocol": "osc777", "matchers": ["team=ml"]}})
    assert settings_.notifications.protocol == "osc777"
    assert parse_settings({}).notifications.severities == ["critical"]
    for bad, said in (
        ({"protocol": "osc52"}, "notifications.protocol"),
        ({"matchers": ['team=~"(']}, "notifications.matchers"),
        ({"matchers": [""]}, "empty filter"),
        ({"bell": True}, "'bell' in notifications"),
    ):
        with pytest.raises(ConfigError, match=re.escape(said)):
            parse_settings({"notifications": bad})


# -- what is said ----------------------------------------------------------------------------


def test_one_alert_says_its_name_and_summary() -> None:
    said = summarise([alert("DiskFull", summary="/var is 99% full")], "prod")
    assert (said.title, said.body, said.urgent) == (
        "prod: critical DiskFull",
        "/var is 99% full",
        True,
    )
    said = summarise([alert("Slow", "warning")], "prod")
    assert (said.body, said.urgent) == ("team=ml", False)  # no summary: its labels


def test_a_storm_is_one_message() -> None:
    storm = [alert(f"Crash{i % 9}", cluster=f"c{i}") for i in range(300)]
    storm.append(alert("Slow", "warning"))
    said = summarise(storm, "prod")
    assert said.title == "prod: 301 new alerts (300 critical)"
    assert said.body.startswith("Crash0 ×34, Crash1 ×34,") and said.body.endswith("and 4 more")
    assert len(notification("osc9", said.title, said.body)) < 400


def title_counts(
    groups: list[BoardGroup],
    context: str,
    *,
    stale: bool = False,
    skip: Collection[str] = (),
) -> str:
    """The title of these groups counted afresh, as the app's first look counts them."""
    return title_text(FiringTally(skip)(groups), context, stale=stale)


def test_the_title_counts_what_fires_unsilenced() -> None:
    alerts = [
        alert("A"),
        alert("B"),
        alert("C", "warning"),
        alert("D", state="silenced"),
    ]
    assert title_counts(groups_of(*alerts), "prod") == "2 critical, 1 warning · prod"
    assert title_counts([], "prod", stale=True) == "0 firing · prod · stale"
    watchdog = alert("Watchdog", "none")
    assert title_counts(groups_of(watchdog), "p", skip={"Watchdog"}) == "0 firing · p"
    many = [alert(s, s) for s in ("critical", "warning", "info", "x", "y", "")]
    assert title_counts(groups_of(*many), "p") == "1 critical, 1 warning, 1 info, 3 other · p"


def test_the_tally_kept_across_polls_counts_what_a_fresh_count_does() -> None:
    """Groups a poll left as they were are not counted again; what changed, left or came is."""
    tally = FiringTally(skip={"Watchdog"})
    board = groups_of(alert("A"), alert("B", "warning"), alert("Watchdog", "none"))
    assert title_text(tally(board), "p") == "1 critical, 1 warning · p"
    changed = make_group("prod", "pager", (("alertname", "B"),), [alert("B", state="silenced")])
    later = [board[0], changed, *groups_of(alert("C", "info"))]
    assert title_text(tally(later), "p") == title_counts(later, "p") == "1 critical, 1 info · p"
    assert title_text(tally([]), "p", stale=True) == "0 firing · p · stale"


# -- the bytes -------------------------------------------------------------------------------


def test_each_protocol_frames_title_and_body() -> None:
    assert notification("osc9", "prod: A", "disk full") == "\x1b]9;prod: A: disk full\x1b\\"
    assert notification("osc777", "t;1", "b;2") == "\x1b]777;notify;t,1;b,2\x1b\\"
    assert notification("osc99", "T", "B", ident=7, urgent=True) == (
        "\x1b]99;i=7:d=0:u=2;T\x1b\\\x1b]99;i=7:d=1:p=body;B\x1b\\"
    )
    assert notification("osc99", "T", "") == "\x1b]99;i=1:d=1:u=1;T\x1b\\"
    assert notification("off", "T", "B") == ""
    # `9;4;...` is a progress bar to Windows Terminal and ConEmu, not a notification.
    assert notification("osc9", "4;50", "") == "\x1b]9;alert 4;50\x1b\\"


def test_tmux_passthrough_doubles_every_inner_escape() -> None:
    inner = notification("osc99", "T", "B")
    wrapped = tmux_passthrough(inner)
    assert wrapped == "\x1bPtmux;" + inner.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    assert for_terminal(inner, {"TMUX": "/tmp/tmux-1/default,1,0"}) == wrapped
    assert for_terminal(inner, {}) == inner
    assert tmux_passthrough("") == ""


@pytest.mark.parametrize(
    ("env", "chosen"),
    [
        ({"TERM": "xterm-kitty"}, "osc99"),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "3"}, "osc99"),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "rxvt-unicode-256color"}, "osc777"),
        ({"TERM": "xterm-256color", "VTE_VERSION": "7600"}, "osc777"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, "osc9"),
        ({"TERM": "xterm-256color"}, "osc9"),
        ({}, "osc9"),
    ],
)
def test_auto_picks_what_the_terminal_says_it_shows(env: dict[str, str], chosen: str) -> None:
    assert choose_protocol("auto", env) == chosen
    assert choose_protocol("off", env) == "off"
    assert choose_protocol("osc777", env) == "osc777"


def payload_controls(sequence: str) -> list[str]:
    """Control characters of `sequence` outside our own framing (ESC ] ... ESC \\)."""
    inner = re.sub(r"\x1b\](?:9|777|99|2);", "", sequence).replace("\x1b\\", "")
    return re.findall(r"[\x00-\x1f\x7f-\x9f]", inner)


def test_hostile_text_cannot_leave_the_sequence() -> None:
    for protocol in ("osc9", "osc777", "osc99"):
        sequence = notification(protocol, f"prod: {HOSTILE}", HOSTILE)
        assert payload_controls(sequence) == [], protocol
        shown = SHOWN.replace(";", ",") if protocol == "osc777" else SHOWN
        assert f"prod: {shown}" in sequence
    title = set_title(HOSTILE * 10)
    assert payload_controls(title) == []
    assert len(title) < 100
    assert PUSH_TITLE == "\x1b[22;0t" and POP_TITLE == "\x1b]2;\x1b\\\x1b[23;0t"


@settings(max_examples=300, derandomize=True)
@given(title=st.text(), body=st.text(), protocol=st.sampled_from(["osc9", "osc777", "osc99"]))
def test_no_text_ends_the_sequence_early(title: str, body: str, protocol: str) -> None:
    sequence = notification(protocol, title, body)  # type: ignore[arg-type]
    frames = 2 if protocol == "osc99" and body.strip() else 1
    assert sequence.count("\x1b") == 2 * frames  # one opening and one ST per frame
    assert payload_controls(sequence) == []
    assert len(sequence) < 600
    if protocol == "osc777":
        assert sequence.count(";") == 3  # notify;title;body: no field added
    wrapped = tmux_passthrough(sequence)
    assert wrapped.count("\x1b") == 2 + 4 * frames
