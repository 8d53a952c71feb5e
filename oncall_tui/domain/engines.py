"""Which engine answers a Prometheus-compatible URL, and what the app can ask it.

Prometheus, VictoriaMetrics (single-node or cluster), vmalert, Grafana Mimir, Cortex and
Thanos Querier all speak the Prometheus HTTP API, but not all of it: VictoriaMetrics answers
`/api/v1/rules` and `/api/v1/alerts` with an empty success unless it proxies to vmalert,
vmalert answers no PromQL, Mimir wants a tenant. The app must know which, so that "this
server cannot tell" is never shown as "none". Pure logic over `wire.engine.EngineFacts`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from oncall_tui.wire.engine import (
    HISTORY,
    PENDING,
    RULES,
    SLO_DISCOVERY,
    Capability,
    Engine,
    EngineFacts,
)

NO_ORG_ID = "no org id"
RULES_URL_HINT = "set prometheus.rules_url to vmalert"


def _flag_set(flags: str, name: str) -> bool:
    return any(line.strip().startswith(f"-{name}=") for line in flags.splitlines())


def _text(info: object) -> str:
    return info if isinstance(info, str) else ""


def identify(facts: EngineFacts) -> Engine:
    """The engine behind one URL, from what it answered."""
    info = facts.buildinfo
    version = _text(info.get("version"))
    application = _text(info.get("application"))
    path = urlsplit(facts.url).path
    if NO_ORG_ID in facts.buildinfo_error.lower():
        why = "the server wants a tenant: add the header X-Scope-OrgID to this context"
        return Engine(
            "mimir",
            "Mimir or Cortex (no tenant sent)",
            capabilities={
                c: Capability(False, why) for c in (PENDING, RULES, HISTORY, SLO_DISCOVERY)
            },
            notes=(explain_no_org_id(),),
        )
    if "mimir" in application.lower() or "features" in info:
        return _mimir("mimir", "Grafana Mimir", version)
    if facts.flags is not None:
        if _flag_set(facts.flags, "datasource.url") or _flag_set(facts.flags, "rule"):
            return _vmalert(facts.flags)
        return _victoriametrics(facts.flags, cluster="/select/" in path)
    if "unsupported path requested" in facts.buildinfo_error and facts.query_ok is False:
        return _vmalert("")
    if "x-server-hostname" in facts.headers:
        return _victoriametrics(None, cluster="/select/" in path)
    if facts.stores:
        return _thanos(version)
    if path.rstrip("/").endswith("/api/prom"):
        return _mimir("cortex", "Cortex", version)
    if facts.buildinfo_status == 200 and version:
        return _prometheus(version)
    if facts.query_ok:
        return Engine(
            "unknown",
            "a Prometheus-compatible server (no build info)",
            capabilities=_all(None, "unknown engine: an empty answer may mean it cannot tell"),
        )
    return Engine("unknown", "unknown", capabilities=_all(None, "the server did not answer"))


def _all(works: bool | None, why: str = "") -> dict[str, Capability]:
    return {c: Capability(works, why) for c in (PENDING, RULES, HISTORY, SLO_DISCOVERY)}


def _prometheus(version: str) -> Engine:
    return Engine(
        "prometheus",
        "Prometheus",
        version,
        {
            PENDING: Capability(True),
            RULES: Capability(True),
            HISTORY: Capability(True, "ALERTS and ALERTS_FOR_STATE"),
            SLO_DISCOVERY: Capability(True, "recording rules"),
        },
    )


def _mimir(kind: str, name: str, version: str) -> Engine:
    return Engine(
        kind,
        name,
        version,
        {
            PENDING: Capability(True, "from the ruler"),
            RULES: Capability(True, "from the ruler, paged"),
            HISTORY: Capability(True, "the ruler writes ALERTS_FOR_STATE"),
            SLO_DISCOVERY: Capability(True, "the ruler's recording rules"),
        },
        notes=("one URL fronts the whole ring: no peers to merge",),
    )


def _thanos(version: str) -> Engine:
    return Engine(
        "thanos",
        "Thanos Querier",
        version,
        {
            PENDING: Capability(True, "merged across rulers"),
            RULES: Capability(True, "merged across rulers"),
            HISTORY: Capability(True, "where Prometheus or a ruler stores ALERTS_FOR_STATE"),
            SLO_DISCOVERY: Capability(True, "merged across rulers"),
        },
        notes=("an answer with warnings is partial: some stores did not answer",),
    )


def _victoriametrics(flags: str | None, *, cluster: bool) -> Engine:
    name = "VictoriaMetrics cluster (vmselect)" if cluster else "VictoriaMetrics"
    proxied = flags is not None and _flag_set(flags, "vmalert.proxyURL")
    if proxied:
        caps = {
            PENDING: Capability(True, "proxied to vmalert"),
            RULES: Capability(True, "proxied to vmalert"),
            HISTORY: Capability(None, "only if vmalert remote-writes ALERTS_FOR_STATE"),
            SLO_DISCOVERY: Capability(True, "vmalert's recording rules"),
        }
    else:
        why = (
            f"its rules and alerts API is a placeholder without -vmalert.proxyURL: {RULES_URL_HINT}"
        )
        caps = {
            PENDING: Capability(None, why),
            RULES: Capability(None, why),
            HISTORY: Capability(None, "only if vmalert remote-writes ALERTS_FOR_STATE"),
            SLO_DISCOVERY: Capability(None, why),
        }
    return Engine(
        "victoriametrics-cluster" if cluster else "victoriametrics",
        name,
        capabilities=caps,
        rules_placeholder=not proxied,
        notes=("newest samples hidden for -search.latencyOffset (30s by default)",),
    )


def _vmalert(flags: str) -> Engine:
    writes = _flag_set(flags, "remoteWrite.url")
    history = (
        Capability(None, "vmalert remote-writes ALERTS_FOR_STATE; query it on the datasource")
        if writes
        else Capability(False, "vmalert answers no PromQL")
    )
    return Engine(
        "vmalert",
        "vmalert",
        capabilities={
            PENDING: Capability(True),
            RULES: Capability(True),
            HISTORY: history,
            SLO_DISCOVERY: Capability(True, "recording rules"),
        },
        notes=(() if not flags or writes else ("no -remoteWrite.url: no ALERTS_FOR_STATE",)),
    )


def combine(query: Engine, rules: Engine | None, rules_facts_flags: str | None = None) -> Engine:
    """A backend whose rules and alerts come from a second URL (vmalert beside
    VictoriaMetrics): pending alerts, rules and discovery are that URL's; history stays the
    query URL's, known only when vmalert says whether it remote-writes."""
    if rules is None:
        return query
    caps = dict(query.capabilities)
    for capability in (PENDING, RULES, SLO_DISCOVERY):
        found = rules.capabilities.get(capability)
        caps[capability] = (
            Capability(found.works, f"from {rules.name}") if found else Capability(None)
        )
    if rules.kind == "vmalert" and rules_facts_flags is not None:
        writes = _flag_set(rules_facts_flags, "remoteWrite.url")
        caps[HISTORY] = (
            Capability(True, "vmalert remote-writes ALERTS_FOR_STATE")
            if writes
            else Capability(False, "vmalert does not remote-write: no ALERTS_FOR_STATE")
        )
    return Engine(
        query.kind,
        f"{query.name} + {rules.name}",
        query.version,
        caps,
        rules_placeholder=rules.rules_placeholder,
        notes=query.notes,
    )


def summary(engine: Engine) -> str:
    """One line for check-config and the status line: the engine and what does not work."""
    missing = [
        f"{name} {'?' if cap.works is None else 'no'}"
        for name, cap in engine.capabilities.items()
        if cap.works is not True
    ]
    return engine.name + (f" ({', '.join(missing)})" if missing else "")


def explain_no_org_id() -> str:
    return (
        'Mimir/Cortex answered 401 "no org id": it serves many tenants and needs to know '
        "which one; add `headers: {X-Scope-OrgID: <tenant>}` to the context (several "
        "tenants at once: `a|b`)"
    )


def explain(status: int, detail: str, path: str) -> str:
    """The server's words, with what they mean for this app where the engine is known."""
    if status == 401 and NO_ORG_ID in detail.lower():
        return explain_no_org_id()
    if status == 422 and path.endswith("/rules"):
        return (
            f"{detail or 'HTTP 422'}: rule evaluation is off for this tenant (Mimir ruler "
            "disabled): no pending alerts, rule expressions or SLO discovery from here"
        )
    return detail
