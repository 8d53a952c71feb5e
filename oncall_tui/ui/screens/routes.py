"""`:routes`: each cluster's routing tree, drawn as a tree, with the alerts each route holds.

Typing labels in the field below (`service=churn-api severity=critical`) highlights the path
they would take, as `amtool config routes test` does, with no alert firing. The trees come
from state/routing.py; the counts from the board's own poll (followed, never a second poll).
Every node label is a `rich.text.Text` built from `one_line`d strings: route matchers and
receiver names come from a server's configuration and are never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode

from oncall_tui.domain.matchers import FilterError, parse_filter
from oncall_tui.domain.routing import Route, RoutingConfig
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.timefmt import short_duration as _d
from oncall_tui.state.context import ContextState
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.screens.where import ROLES, why
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.routing_text import matchers_text
from oncall_tui.ui.widgets.styles import component_style


def labels_of(text: str) -> dict[str, str]:
    """`name=value` pairs typed by the user; any other operator is refused with a reason."""
    parsed = parse_filter(text)
    if parsed.words:
        raise FilterError(f"{parsed.words[0]!r}: write labels as name=value", 0)
    bad = next((m for m in parsed.matchers if m.op != "="), None)
    if bad is not None:
        raise FilterError(f"{bad}: a label has one value: use name=value", 0)
    return {m.name: m.value for m in parsed.matchers}


class RoutesScreen(Screen[None]):
    CSS_PATH = "routing.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="routes.back"),
        Binding("slash", "labels", "Test labels", id="routes.labels"),
        Binding("ctrl+r", "refresh", "Refresh", id="routes.refresh"),
    ]
    COMPONENT_CLASSES = {f"routing--{role}" for role in (*ROLES, "path")}

    def __init__(self, state: ContextState) -> None:
        super().__init__()
        self.state = state
        self.configs: dict[str, RoutingConfig | str] = {}  # str: why there is no tree
        self.labels: dict[str, str] | None = None
        self.problem = ""
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="routes-title", classes="routing-title")
        tree: Tree[str] = Tree(Text("routing"), id="routes-tree", classes="routing-body")
        tree.show_root = False
        yield tree
        yield Field(
            placeholder="labels to route: service=churn-api severity=critical (enter)",
            id="routes-labels",
            select_on_focus=False,
        )
        yield KeysFooter()

    @property
    def route_tree(self) -> Tree[str]:
        return self.query_one("#routes-tree", Tree)

    def on_mount(self) -> None:
        self.route_tree.focus()
        self._title()
        self.load()
        store = self.state.alerts
        self._unsubscribe = follow(self, store, store.subscribe)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @on(StoreChanged)
    def _alerts_changed(self, event: StoreChanged) -> None:
        event.stop()
        if self.configs:
            self.draw()

    def _style(self, name: str) -> Style:
        return component_style(self, f"routing--{name}")

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted and self.configs:
            self.call_later(self.draw)

    @work(exclusive=True, group="routes", exit_on_error=False)
    async def load(self, fresh: bool = False) -> None:
        routing = self.state.routing
        found: dict[str, RoutingConfig | str] = {}
        for name in routing.cluster_names:
            try:
                found[name] = await routing.config(name, fresh=fresh)
            except Exception as exc:  # the other clusters still draw
                found[name] = why(exc)
        self.configs = found
        self.draw()

    def _title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("routing trees", style="bold")
        if self.problem:
            text.append(f"  ✗ {one_line(self.problem, 200)}", style=self._style("error"))
        elif self.labels is not None:
            shown = " ".join(f"{k}={v}" for k, v in self.labels.items()) or "(no labels)"
            text.append(f"  path of {one_line(shown, 200)}", style=self._style("path"))
            text.append("  (esc clears)")
        else:
            text.append("  / to test labels · [n] alerts on a route now")
        if not self.state.routing.cluster_names:
            text.append("  no Alertmanager in this context", style=self._style("error"))
        self.query_one("#routes-title", Static).update(text)

    def draw(self) -> None:
        tree = self.route_tree
        tree.clear()
        if not self.configs:
            tree.root.add_leaf(Text("loading…"))
        for cluster, config in self.configs.items():
            head = Text(f"cluster {one_line(cluster, 60)}", style=self._style("name"))
            if isinstance(config, str):
                head.append(f"  {one_line(config, 300)}", style=self._style("error"))
                tree.root.add_leaf(head)
                continue
            counts = self.state.routing.counts(cluster, config)
            path = config.visited(self.labels) if self.labels is not None else set()
            landed = (
                {r.key for r in config.match(self.labels)} if self.labels is not None else set()
            )
            if self.labels is not None:
                receivers = ", ".join(config.receivers_for(self.labels))
                head.append(f"  → {one_line(receivers, 200)}", style=self._style("path"))
            top = tree.root.add(head, expand=True)
            self._add(top, config, config.root, counts, path, landed)
        tree.root.expand()
        self._title()

    def _add(
        self,
        parent: TreeNode[str],
        config: RoutingConfig,
        route: Route,
        counts: dict[str, int],
        path: set[str],
        landed: set[str],
    ) -> None:
        label = self.node_text(config, route, counts.get(route.key, 0), route.key in landed)
        if route.key in path:
            label.stylize(self._style("path"))
        if route.routes:
            node = parent.add(label, data=route.key, expand=True)
            for child in route.routes:
                self._add(node, config, child, counts, path, landed)
        else:
            parent.add_leaf(label, data=route.key)

    def node_text(
        self, config: RoutingConfig, route: Route, count: int, landed: bool = False
    ) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(matchers_text(route))
        text.append(f"  → {one_line(route.receiver, 80)}", style=self._style("name"))
        receiver = config.receivers.get(route.receiver)
        if receiver is not None and not receiver.integrations:
            text.append(" (no integrations)", style=self._style("muted"))
        if route.continue_:
            text.append("  continue")
        text.append(f"  [{count}]", style=self._style("warn" if count else "muted"))
        for name in route.mute_time_intervals:
            text.append(f"  muted in {one_line(name, 40)}", style=self._style("muted"))
        for name in route.active_time_intervals:
            text.append(f"  active in {one_line(name, 40)}", style=self._style("muted"))
        text.append(
            f"  wait {_d(route.group_wait)} · every {_d(route.group_interval)}"
            f" · repeat {_d(route.repeat_interval)}",
            style=self._style("muted"),
        )
        if landed:
            text.append("  ◀ lands here", style=self._style("path"))
        return text

    # -- labels to test ----------------------------------------------------------------------

    def action_labels(self) -> None:
        self.set_focus(self.query_one("#routes-labels", Input))

    @on(Input.Changed, "#routes-labels")
    @on(Input.Submitted, "#routes-labels")
    def _labels_typed(self, event: Input.Changed | Input.Submitted) -> None:
        text = event.value.strip()
        try:
            self.labels = labels_of(text) if text else None
            self.problem = ""
        except FilterError as exc:
            self.problem = exc.message
        if isinstance(event, Input.Submitted):
            self.route_tree.focus()
        self.draw()

    def action_back(self) -> None:
        field = self.query_one("#routes-labels", Input)
        if field.value or self.labels is not None:
            field.value = ""
            self.labels = None
            self.problem = ""
            self.route_tree.focus()
            self.draw()
            return
        self.dismiss()

    def action_refresh(self) -> None:
        self.load(fresh=True)
