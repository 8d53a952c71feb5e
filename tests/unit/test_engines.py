"""Naming the engine from what it answered: pure logic over recorded facts.

Sources of each shape: VictoriaMetrics 1.79.5 and vmalert (Debian) answered here (buildinfo
`{"status":"success","data":{}}` with `X-Server-Hostname`; vmalert 400 "unsupported path
requested" on /api/v1/query and buildinfo; /flags lists the flags that are set). Mimir:
its HTTP API reference lists GET /api/v1/status/buildinfo; the answer carries `application:
"Grafana Mimir"` and `features`; a request without X-Scope-OrgID gets 401 "no org id".
Thanos Querier: GET /api/v1/stores is its own (docs: components/query). Cortex: `/api/prom`.
"""

from __future__ import annotations

from oncall_tui.domain.engines import combine, explain, identify
from oncall_tui.wire.engine import HISTORY, PENDING, RULES, EngineFacts

PROM_INFO = {"version": "2.42.0", "revision": "x", "goVersion": "go1.19"}


def test_prometheus() -> None:
    engine = identify(EngineFacts("http://p:9090", 200, PROM_INFO, stores=False))
    assert (
        engine.kind == "prometheus" and engine.name == "Prometheus" and engine.version == "2.42.0"
    )
    assert not engine.missing() and not engine.rules_placeholder


def test_victoriametrics_without_proxy_cannot_tell() -> None:
    facts = EngineFacts(
        "http://vm:8428",
        200,
        {},
        headers=frozenset({"x-server-hostname"}),
        flags='-retentionPeriod="1"\n',
    )
    engine = identify(facts)
    assert engine.kind == "victoriametrics" and engine.rules_placeholder
    assert engine.works(PENDING) is None and engine.works(RULES) is None
    assert "rules_url" in engine.capabilities[PENDING].why


def test_victoriametrics_with_proxy_and_cluster() -> None:
    proxied = identify(EngineFacts("http://vm:8428", 200, {}, flags='-vmalert.proxyURL="x"\n'))
    assert proxied.works(PENDING) and not proxied.rules_placeholder
    cluster = identify(EngineFacts("http://vmselect:8481/select/0/prometheus", 200, {}, flags=""))
    assert cluster.kind == "victoriametrics-cluster"


def test_vmalert_and_the_pair() -> None:
    said = 'requestURI: /api/v1/status/buildinfo; unsupported path requested: "/api/v1/status/buildinfo"'
    flags = '-datasource.url="secret"\n-rule="r.yml"\n'
    vmalert = identify(
        EngineFacts("http://va:8880", 400, buildinfo_error=said, flags=flags, query_ok=False)
    )
    assert vmalert.kind == "vmalert" and vmalert.works(HISTORY) is False
    vm = identify(EngineFacts("http://vm:8428", 200, {}, flags=""))
    without = combine(vm, vmalert, flags)
    assert without.name == "VictoriaMetrics + vmalert" and without.works(PENDING)
    assert without.works(HISTORY) is False and not without.rules_placeholder
    writes = combine(vm, vmalert, flags + '-remoteWrite.url="secret"\n')
    assert writes.works(HISTORY) is True


def test_mimir_thanos_cortex() -> None:
    mimir = identify(
        EngineFacts(
            "http://m/prometheus",
            200,
            {"application": "Grafana Mimir", "version": "2.15.0", "features": {}},
        )
    )
    assert mimir.kind == "mimir" and mimir.name == "Grafana Mimir" and mimir.version == "2.15.0"
    no_tenant = identify(EngineFacts("http://m/prometheus", 401, buildinfo_error="no org id"))
    assert no_tenant.kind == "mimir" and "X-Scope-OrgID" in no_tenant.notes[0]
    thanos = identify(EngineFacts("http://t:10902", 200, {"version": "0.34.1"}, stores=True))
    assert thanos.kind == "thanos" and thanos.works(PENDING)
    cortex = identify(EngineFacts("http://c/api/prom", 200, {"version": "1.16.0"}, stores=False))
    assert cortex.kind == "cortex"


def test_errors_in_words() -> None:
    assert "X-Scope-OrgID" in explain(401, "no org id", "/query")
    assert "a|b" in explain(401, "no org id", "/query")
    said = explain(422, "ruler disabled", "/rules")
    assert said.startswith("ruler disabled") and "rule evaluation is off" in said
    assert explain(400, "bad_data", "/query") == "bad_data"
