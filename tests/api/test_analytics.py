"""Stats, tag stats, metrics and logs counted from the mock's real events (test client and real server):
5 tagged sends, 4 delivered, 1 bounced, 2 opens two hours later."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

D = "example.com"
RECIPIENTS = ("ann@gmail.com", "bob@gmail.com", "cat@yahoo.com", "dan@corp.example", "fail@corp.example")
EVENTS = [("event", name) for name in ("accepted", "delivered", "failed", "opened")]


def scenario(api: Api) -> dict[str, float]:
    """Send 5 messages tagged ``news`` (the fifth bounces), then two hours later open the first two (the
    second from Germany on a phone). Answers the times of the sends and the opens."""
    reply = api.post("/mock/rules", json={"match": {"recipient": "^fail@"}, "outcome": "bounce"})
    assert reply.status == 200, reply.text
    for to in RECIPIENTS:
        assert api.post(f"/v3/{D}/messages", data={"from": f"shop@{D}", "to": to, "subject": "News", "text": "Hi",
                                                   "o:tag": "news"}).status == 200
    assert api.backend.delivery.run_due(10)
    accepted = api.get(f"/v3/{D}/events", params={"event": "accepted", "ascending": "yes"}).json()["items"]
    keys = {e["recipient"]: e["storage"]["key"] for e in accepted}
    sent_at = accepted[0]["timestamp"]
    api.post("/mock/clock", json={"advance": 7200})
    assert api.post(f"/mock/messages/{keys['ann@gmail.com']}/events", json={"event": "opened"}).status == 200
    reply = api.post(f"/mock/messages/{keys['bob@gmail.com']}/events",
                     json={"event": "opened", "country": "de", "device": "mobile"})
    assert reply.status == 200, reply.text
    return {"sent": sent_at, "opened": api.backend.clock.now()}


def totals(stats: list[dict[str, Any]]) -> dict[str, int]:
    """The counts of a stats series, summed over its buckets."""
    found = {"accepted": 0, "delivered": 0, "smtp": 0, "failed": 0, "bounce": 0, "opened": 0, "unique": 0}
    for item in stats:
        found["accepted"] += item["accepted"]["outgoing"]
        found["delivered"] += item["delivered"]["total"]
        found["smtp"] += item["delivered"]["smtp"]
        found["failed"] += item["failed"]["permanent"]["total"]
        found["bounce"] += item["failed"]["permanent"]["bounce"]
        found["opened"] += item["opened"]["total"]
        found["unique"] += item["opened"]["unique"]
    return found


EXPECTED = {"accepted": 5, "delivered": 4, "smtp": 4, "failed": 1, "bounce": 1, "opened": 2, "unique": 2}


def test_stats_total_counts_the_logged_events(api: Api) -> None:
    """/v3/<d>/stats/total and /v3/stats/total count exactly 5 accepted, 4 delivered, 1 bounce, 2 opens."""
    scenario(api)
    for path in (f"/v3/{D}/stats/total", "/v3/stats/total"):
        body = api.get(path, params=[*EVENTS, ("duration", "1d"), ("resolution", "hour")]).json()
        assert body["resolution"] == "hour" and totals(body["stats"]) == EXPECTED
        assert set(body["stats"][0]) == {"time", "accepted", "delivered", "failed", "opened"}
        busy = [item for item in body["stats"] if item["accepted"]["total"] or item["opened"]["total"]]
        assert [(i["accepted"]["total"], i["opened"]["total"]) for i in busy] == [(5, 0), (0, 2)]
    only = api.get(f"/v3/{D}/stats/total", params={"event": "delivered"}).json()
    assert set(only["stats"][-1]) == {"time", "delivered"} and len(only["stats"]) == 8  # 7 days back, by day


def test_tag_stats_count_the_tagged_events(api: Api) -> None:
    """/v3/<d>/tag/stats counts the tag's events; provider and country narrow them; an unknown tag is 404."""
    scenario(api)
    body = api.get(f"/v3/{D}/tag/stats", params=[*EVENTS, ("tag", "news"), ("duration", "2d")]).json()
    assert body["tag"] == "news" and totals(body["stats"]) == EXPECTED
    gmail = api.get(f"/v3/{D}/tag/stats", params=[*EVENTS, ("tag", "news"), ("provider", "gmail.com")]).json()
    assert totals(gmail["stats"]) == {**EXPECTED, "accepted": 2, "delivered": 2, "smtp": 2, "failed": 0, "bounce": 0}
    german = api.get(f"/v3/{D}/tag/stats", params={"event": "opened", "tag": "news", "country": "DE"}).json()
    assert sum(i["opened"]["total"] for i in german["stats"]) == 1
    reply = api.get(f"/v3/{D}/tag/stats", params={"event": "opened", "tag": "nope"})
    assert reply.status == 404 and reply.json() == {"message": "tag not found"}


def test_metrics_two_resolutions_and_a_filter(api: Api) -> None:
    """/v1/analytics/metrics: the same totals by hour and by day, the opens in their own hour, and a filter."""
    times = scenario(api)
    names = ["accepted_count", "delivered_count", "failed_count", "permanent_failed_count", "hard_bounces_count",
             "opened_count", "unique_opened_count", "opened_rate"]
    query = {"dimensions": ["time"], "metrics": names, "duration": "1d", "include_aggregates": True}
    by_hour = api.post("/v1/analytics/metrics", json={**query, "resolution": "hour"}).json()
    by_day = api.post("/v1/analytics/metrics", json={**query, "resolution": "day"}).json()
    expected = {"accepted_count": 5, "delivered_count": 4, "failed_count": 1, "permanent_failed_count": 1,
                "hard_bounces_count": 1, "opened_count": 2, "unique_opened_count": 2, "opened_rate": "50.00"}
    assert by_hour["aggregates"]["metrics"] == by_day["aggregates"]["metrics"] == expected
    assert len(by_hour["items"]) in (24, 25) and len(by_day["items"]) in (1, 2)
    busy = [(i["dimensions"][0]["value"], i["metrics"]["accepted_count"], i["metrics"]["opened_count"])
            for i in by_hour["items"] if i["metrics"]["accepted_count"] or i["metrics"]["opened_count"]]
    assert [b[1:] for b in busy] == [(5, 0), (0, 2)]
    assert sum(i["metrics"]["delivered_count"] for i in by_day["items"]) == 4
    gmail = api.post("/v1/analytics/metrics", json={
        "dimensions": ["recipient_provider"], "metrics": ["delivered_count", "opened_count"], "duration": "1d",
        "filter": {"AND": [{"attribute": "recipient_domain", "comparator": "=",
                            "values": [{"label": "gmail.com", "value": "gmail.com"}]}]}}).json()
    assert [(i["dimensions"][0]["value"], i["metrics"]) for i in gmail["items"]] == [
        ("Gmail", {"delivered_count": 2, "opened_count": 2})]
    assert times["opened"] - times["sent"] >= 7200


def test_metrics_by_device_country_and_tag(api: Api) -> None:
    """The engagement trigger's country and device (defaults US, desktop) are dimensions; tags group too."""
    scenario(api)
    body = api.post("/v1/analytics/metrics", json={"dimensions": ["country", "device"], "metrics": ["opened_count"],
                                                   "filter": {"AND": [{"attribute": "tag", "comparator": "=",
                                                                       "values": [{"label": "n", "value": "news"}]}]},
                                                   "duration": "1d"}).json()
    opened = {tuple(d["value"] for d in i["dimensions"]): i["metrics"]["opened_count"] for i in body["items"]}
    assert opened == {("DE", "mobile"): 1, ("US", "desktop"): 1, ("unknown", "unknown"): 0}
    devices = api.get(f"/v3/{D}/aggregates/devices").json()["devices"]
    assert devices == {"desktop": {**devices["desktop"], "opened": 1, "accepted": 0},
                       "mobile": {**devices["mobile"], "opened": 1}}
    assert set(api.get(f"/v3/{D}/aggregates/countries").json()["countries"]) == {"de", "us"}
    providers = api.get(f"/v3/{D}/aggregates/providers").json()["providers"]
    assert providers["gmail.com"]["accepted"] == 2 and providers["gmail.com"]["opened"] == 2
    assert "mobile" in api.get(f"/v3/domains/{D}/tag/devices").json()["items"]


def test_logs_list_page_and_filter(api: Api) -> None:
    """/v1/analytics/logs: the 9 events of the types asked for, in pages of 4, and a filter on recipient."""
    scenario(api)
    query: dict[str, Any] = {"events": ["accepted", "delivered", "failed", "opened"], "include_totals": True,
                             "pagination": {"limit": 4, "sort": "timestamp:asc"}}
    first = api.post("/v1/analytics/logs", json=query).json()
    assert first["pagination"]["total"] == 12 and "previous" not in first["pagination"]
    seen, page = list(first["items"]), first
    while "next" in page["pagination"]:
        page = api.post("/v1/analytics/logs", json={**query, "pagination": {
            **query["pagination"], "token": page["pagination"]["next"]}}).json()
        seen += page["items"]
    assert [i["event"] for i in seen].count("delivered") == 4 and len(seen) == 12
    assert [i["event"] for i in seen][-2:] == ["opened", "opened"]
    failed = next(i for i in seen if i["event"] == "failed")
    assert failed["domain"] == {"name": D} and failed["recipient"] == "fail@corp.example"
    assert failed["delivery-status"]["code"] == 550 and failed["tags"] == ["news"]
    bob = api.post("/v1/analytics/logs", json={"filter": {"AND": [
        {"attribute": "recipient", "comparator": "=", "values": [{"label": "b", "value": "bob@gmail.com"}]}]}}).json()
    assert sorted(i["event"] for i in bob["items"]) == ["accepted", "delivered", "opened"]
    assert bob["items"][0]["event"] == "opened"  # newest first by default


@pytest.mark.parametrize(("path", "params", "words"), [
    (f"/v3/{D}/stats/total", {}, "'event' parameter is required"),
    (f"/v3/{D}/stats/total", {"event": "bounced"}, "Invalid event 'bounced'"),
    (f"/v3/{D}/stats/total", {"event": "delivered", "duration": "3w"}, "Invalid 'duration' '3w'"),
    (f"/v3/{D}/stats/total", {"event": "delivered", "resolution": "week"}, "Invalid 'resolution' 'week'"),
    ("/v3/stats/total", {"event": "delivered", "start": "yesterday"}, "Invalid 'start' 'yesterday'"),
    (f"/v3/{D}/tag/stats", {"event": "delivered"}, "Parameter 'tag' is missing"),
])
def test_stats_refuse_bad_parameters(api: Api, path: str, params: dict[str, str], words: str) -> None:
    """A missing or unknown event, a bad duration, resolution or date are 400s that name the problem."""
    reply = api.get(path, params=params)
    assert reply.status == 400 and words in reply.json()["message"], reply.text


@pytest.mark.parametrize(("body", "words"), [
    ({"resolution": "week"}, "Invalid 'resolution' 'week'"),
    ({"duration": "1y"}, "Invalid 'duration' '1y'"),
    ({"metrics": ["bounced"]}, "Invalid metric 'bounced'"),
    ({"dimensions": ["planet"]}, "Invalid dimension 'planet'"),
    ({"filter": {"AND": [{"attribute": "planet", "comparator": "=", "values": []}]}}, "Invalid filter attribute"),
])
def test_metrics_refuse_bad_queries(api: Api, body: dict[str, Any], words: str) -> None:
    """Bad resolutions, durations, metrics, dimensions and filters are 400s that name the problem."""
    reply = api.post("/v1/analytics/metrics", json=body)
    assert reply.status == 400 and words in reply.json()["message"], reply.text


def test_account_tags_list_update_delete_and_limits(api: Api) -> None:
    """/v1/analytics/tags lists the tags sends carried, describes and deletes them; limits count them."""
    scenario(api)
    api.post(f"/v3/{D}/messages", data={"from": f"shop@{D}", "to": "x@y.example", "text": "t", "o:tag": "promo"})
    listed = api.post("/v1/analytics/tags", json={"pagination": {"sort": "tag:asc", "include_total": True}}).json()
    assert [t["tag"] for t in listed["items"]] == ["news", "promo"] and listed["pagination"]["total"] == 2
    assert api.get("/v1/analytics/tags/limits").json() == {"limit": 5000, "count": 2, "limit_reached": False}
    assert api.put("/v1/analytics/tags", json={"tag": "news", "description": "Weekly"}).json() == {"message": "Tag updated"}
    assert api.get(f"/v3/{D}/tag", params={"tag": "news"}).json()["description"] == "Weekly"
    with_metrics = api.post("/v1/analytics/tags", json={"tag": "ne", "include_metrics": True}).json()["items"]
    assert with_metrics[0]["description"] == "Weekly" and with_metrics[0]["metrics"]["delivered_count"] == 4
    assert api.delete("/v1/analytics/tags", json={"tag": "promo"}).json() == {"message": "Tag deleted"}
    assert api.delete("/v1/analytics/tags", json={"tag": "promo"}).status == 404
    assert api.get("/v1/analytics/tags/limits").json()["count"] == 1


def test_bounce_classification_of_the_bounce(api: Api) -> None:
    """The bounce (550 5.1.1) is classified as mailbox-does-not-exist at entity other, in every view."""
    scenario(api)
    stats = api.get("/v1/bounce-classification/stats").json()["items"]
    assert stats == [{"domain": {"name": D}, "entity-id": "other", "rule-id": "mailbox-does-not-exist",
                      "short-explanation": "Mailbox does not exist", "bounced": {"total": 1}}]
    assert api.get("/v1/bounce-classification/domains").json() == {"items": [{"domain": {"name": D}, "bounced": {"total": 1}}],
                                                                    "total": 1}
    entities = api.get(f"/v1/bounce-classification/domains/{D}/entities").json()["items"]
    assert entities == [{"entity-id": "other", "entity-name": "Other", "bounced": {"total": 1}}]
    rules = api.get(f"/v1/bounce-classification/domains/{D}/entities/other/rules").json()["items"]
    assert [(r["rule-id"], r["category"], r["bounced"]["total"]) for r in rules] == [("mailbox-does-not-exist", "BOUNCE", 1)]
    logged = api.get(f"/v1/bounce-classification/domains/{D}/events").json()["items"]
    assert [(e["recipient"], e["rule-id"]) for e in logged] == [("fail@corp.example", "mailbox-does-not-exist")]
    assert "mailbox-does-not-exist" in api.get("/v1/bounce-classification/config/rules").json()
    assert api.get("/v1/bounce-classification/config/entities").json()["gmail"] == {"name": "Gmail"}
    metrics = api.post("/v2/bounce-classification/metrics", json={
        "dimensions": ["entity-name", "category"], "duration": "24h"}).json()
    assert [(i["entity-name"], i["category"], i["metrics"]["non_critical_bounce_count"],
             i["metrics"]["classified_failures_count"]) for i in metrics["items"]] == [("Other", "BOUNCE", 1, 1)]
    by_entity = api.post("/v2/bounce-classification/metrics", json={"dimensions": ["entity-name"]}).json()["items"]
    assert by_entity[0]["metrics"]["delivered_smtp_count"] == 1  # dan@corp.example, the same entity
    assert api.post("/v2/bounce-classification/metrics", json={"resolution": "month"}).status == 400


def exercise(call: Any) -> None:
    """One call of each analytics operation, for the shape check's scenario (``call(method, path, **kw)``)."""
    call("POST", "/mock/rules", json={"match": {"recipient": "^fail@"}, "outcome": "bounce"})
    call("POST", f"/v3/{D}/messages", data={"from": f"a@{D}", "to": "fail@x.example", "text": "t", "o:tag": "stat"})
    stats = [("event", "accepted"), ("event", "failed"), ("duration", "1d")]
    call("GET", "/v3/stats/total", params=stats)
    call("GET", f"/v3/{D}/stats/total", params=stats)
    call("GET", "/v3/stats/total/domains", params={"event": "accepted", "timestamp": "0"})
    call("GET", "/v3/stats/filter", params={"event": "accepted", "filter": f"domain:{D}", "group": "tag"})
    for kind in ("providers", "devices", "countries"):
        call("GET", f"/v3/{D}/aggregates/{kind}")
        call("GET", f"/v3/domains/{D}/tag/{kind}")
    call("GET", f"/v3/{D}/tag/stats", params={"event": "accepted", "tag": "stat"})
    call("GET", f"/v3/{D}/tag/stats/aggregates", params={"tag": "stat", "type": "provider"})
    call("POST", "/v1/analytics/metrics", json={"dimensions": ["time"], "metrics": ["accepted_count", "opened_rate"],
                                                "include_aggregates": True})
    call("POST", "/v1/analytics/usage/metrics", json={"dimensions": ["time"], "metrics": ["processed_count"]})
    call("POST", "/v1/analytics/logs", json={"include_totals": True})
    call("POST", "/v1/analytics/tags", json={"include_metrics": True})
    call("PUT", "/v1/analytics/tags", json={"tag": "stat", "description": "d"})
    call("GET", "/v1/analytics/tags/limits")
    call("GET", "/v1/bounce-classification/stats")
    call("GET", "/v1/bounce-classification/domains")
    call("GET", f"/v1/bounce-classification/domains/{D}/entities")
    call("GET", f"/v1/bounce-classification/domains/{D}/entities/other/rules")
    call("GET", f"/v1/bounce-classification/domains/{D}/events")
    call("GET", "/v1/bounce-classification/config/entities")
    call("GET", "/v1/bounce-classification/config/rules")
    call("POST", "/v2/bounce-classification/metrics", json={"dimensions": ["entity-name"]})
    call("DELETE", "/v1/analytics/tags", json={"tag": "stat"})


def test_stats_filter_and_domains_count_per_group(api: Api) -> None:
    """/v3/stats/filter groups by tag or provider under a domain filter; /v3/stats/total/domains counts
    each domain's bucket at a timestamp."""
    times = scenario(api)
    by_provider = api.get("/v3/stats/filter", params={"event": "delivered", "filter": f"domain:{D}",
                                                      "group": "provider", "duration": "1d"}).json()["stats"]
    assert {s["provider"]: s["delivered"]["total"] for s in by_provider} == {
        "corp.example": 1, "gmail.com": 2, "yahoo.com": 1}
    total = api.get("/v3/stats/filter", params={"event": "opened", "group": "total", "duration": "1d"}).json()
    assert [s["opened"]["total"] for s in total["stats"]] == [2]
    domains = api.get("/v3/stats/total/domains", params={"event": "accepted", "resolution": "hour",
                                                         "timestamp": str(int(times["sent"]))}).json()["stats"]
    assert [(s["domain"], s["accepted"]["total"]) for s in domains] == [(D, 5)]
    assert api.get("/v3/stats/filter", params={"event": "opened", "filter": "planet:mars"}).status == 400


@pytest.mark.parametrize(("body", "words"), [({"event": "opened", "country": "Germany"}, "two-letter country code"),
                                             ({"event": "opened", "device": "watch"}, "'device' must be one of")])
def test_trigger_refuses_a_bad_country_or_device(api: Api, body: dict[str, str], words: str) -> None:
    """The engagement trigger's country is a two-letter code and its device one of the known types."""
    api.post(f"/v3/{D}/messages", data={"from": f"shop@{D}", "to": "ann@gmail.com", "text": "Hi"})
    key = api.get(f"/v3/{D}/events", params={"event": "accepted"}).json()["items"][0]["storage"]["key"]
    reply = api.post(f"/mock/messages/{key}/events", json=body)
    assert reply.status == 400 and words in reply.json()["message"]


def test_rule_sets_the_country_and_device_of_its_engagement(api: Api) -> None:
    """A rule's country and device go on the opens it causes, and from there into the metrics; without an
    engagement outcome they are refused."""
    reply = api.post("/mock/rules", json={"match": {"tag": "app"}, "outcome": ["deliver", "open"], "country": "fr",
                                          "device": "tablet"})
    assert reply.status == 200 and reply.json()["country"] == "FR"
    api.post(f"/v3/{D}/messages", data={"from": f"shop@{D}", "to": "ann@gmail.com", "text": "Hi", "o:tag": "app"})
    api.post("/mock/clock", json={"advance": 120})
    opened = api.get(f"/v3/{D}/events", params={"event": "opened"}).json()["items"]
    assert [(e["geolocation"]["country"], e["client-info"]["device-type"]) for e in opened] == [("FR", "tablet")]
    body = api.post("/v1/analytics/metrics", json={"dimensions": ["device"], "metrics": ["opened_count"],
                                                   "duration": "1d"}).json()
    assert {i["dimensions"][0]["value"]: i["metrics"]["opened_count"] for i in body["items"]} == {
        "tablet": 1, "unknown": 0}
    refused = api.post("/mock/rules", json={"outcome": "bounce", "device": "tablet"})
    assert refused.status == 400 and "'device' does not apply" in refused.json()["message"]
