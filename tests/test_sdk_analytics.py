"""The official Python SDK (`mailgun` on PyPI) reading analytics from the real server: tags (its older
``/tags/<tag>`` paths), tag stats and aggregates, domain stats, Metrics, Logs, the account's tags and
bounce classification, against counts of events the test caused."""

from __future__ import annotations

import json

import pytest
import requests
from mailgun.client import Client

from mailgun_mock import MailgunMock

D = "example.com"


@pytest.fixture
def client(mailgun_mock: MailgunMock) -> Client:
    """The official SDK pointed at the mock, after 3 sends tagged ``news`` (one bounces) and one open."""
    sdk = Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url)
    auth = ("api", mailgun_mock.api_key)
    requests.post(f"{mailgun_mock.url}/mock/rules", auth=auth, json={"match": {"recipient": "^fail@"}, "outcome": "bounce"},
                  timeout=10).raise_for_status()
    for to in ("ann@gmail.com", "bob@yahoo.com", "fail@corp.example"):
        reply = sdk.messages.create(domain=D, data={"from": f"shop@{D}", "to": to, "subject": "Hi", "text": "Hi",
                                                    "o:tag": "news"})
        assert reply.status_code == 200, reply.text
    mailgun_mock.settle()
    accepted = next(e for e in mailgun_mock.backend.store.all_events()
                    if e["event"] == "accepted" and e["recipient"] == "ann@gmail.com")
    requests.post(f"{mailgun_mock.url}/mock/messages/{accepted['storage']['key']}/events", auth=auth,
                  json={"event": "opened", "device": "tablet"}, timeout=10).raise_for_status()
    return sdk


def test_sdk_tags_read_describe_and_delete(client: Client) -> None:
    """client.tags lists, reads, describes and deletes a tag through the SDK's /tags/<tag> paths."""
    assert [t["tag"] for t in client.tags.get(domain=D).json()["items"]] == ["news"]
    assert client.tags.get(domain=D, tag_name="news").json()["tag"] == "news"
    assert client.tags.put(domain=D, tag_name="news", data={"description": "Weekly"}).json() == {"message": "Tag updated"}
    assert client.tags.get(domain=D, tag_name="news").json()["description"] == "Weekly"
    assert client.tags.delete(domain=D, tag_name="news").json() == {"message": "Tag deleted"}
    assert client.tags.get(domain=D, tag_name="news").status_code == 404


def test_sdk_tag_stats_and_aggregates(client: Client) -> None:
    """client.tags_stats counts the tag's events; the aggregates group them by device, provider, country."""
    stats = client.tags_stats.get(domain=D, tag_name="news", filters={"event": ["accepted", "delivered", "failed",
                                                                                 "opened"]}).json()
    assert stats["tag"] == "news"
    assert sum(s["accepted"]["total"] for s in stats["stats"]) == 3
    assert sum(s["delivered"]["total"] for s in stats["stats"]) == 2
    assert sum(s["failed"]["permanent"]["bounce"] for s in stats["stats"]) == 1
    assert sum(s["opened"]["total"] for s in stats["stats"]) == 1
    devices = client.tags_stats_aggregates_devices.get(domain=D, tag_name="news").json()
    assert devices["device"]["tablet"]["opened"] == 1
    providers = client.tags_stats_aggregates_providers.get(domain=D, tag_name="news").json()["provider"]
    assert sorted(providers) == ["corp.example", "gmail.com", "yahoo.com"]
    assert client.tags_stats_aggregates_countries.get(domain=D, tag_name="news").json()["country"]["us"]["opened"] == 1


def test_sdk_domain_stats(client: Client) -> None:
    """client.stats_total reads /v3/<domain>/stats/total (the SDK warns that the v3 Stats API is deprecated)."""
    with pytest.warns(DeprecationWarning, match="v3 Stats API is deprecated"):
        reply = client.stats_total.get(domain=D, filters={"event": ["accepted", "delivered"], "duration": "1d"})
    assert reply.status_code == 200, reply.text
    stats = reply.json()["stats"]
    assert (sum(s["accepted"]["total"] for s in stats), sum(s["delivered"]["total"] for s in stats)) == (3, 2)


def test_sdk_metrics_and_usage(client: Client) -> None:
    """client.analytics_metrics and analytics_usage_metrics post JSON queries and get the counts."""
    query = {"resolution": "hour", "duration": "1d", "dimensions": ["tag"],
             "metrics": ["accepted_count", "delivered_count", "bounced_count", "opened_count"], "include_aggregates": True}
    reply = client.analytics_metrics.create(data=json.dumps(query), headers={"Content-Type": "application/json"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["items"] == [{"dimensions": [{"dimension": "tag", "value": "news", "display_value": "news"}],
                              "metrics": {"accepted_count": 3, "delivered_count": 2, "bounced_count": 1,
                                          "opened_count": 1}}]
    usage = client.analytics_usage_metrics.create(data={"metrics": ["processed_count"], "duration": "1d",
                                                        "include_aggregates": True})
    assert usage.status_code == 200, usage.text
    assert usage.json()["aggregates"]["metrics"] == {"processed_count": 3}


def test_sdk_logs(client: Client) -> None:
    """client.analytics_logs posts a Logs query and pages through the events."""
    query = {"events": ["delivered", "failed"], "pagination": {"sort": "timestamp:asc", "limit": 2},
             "filter": {"AND": [{"attribute": "domain", "comparator": "=", "values": [{"label": D, "value": D}]}]}}
    first = client.analytics_logs.create(data=json.dumps(query), headers={"Content-Type": "application/json"}).json()
    rest = client.analytics_logs.create(data=json.dumps({**query, "pagination": {
        **query["pagination"], "token": first["pagination"]["next"]}}), headers={"Content-Type": "application/json"}).json()
    events = [(i["event"], i["recipient"]) for i in first["items"] + rest["items"]]
    assert sorted(events) == [("delivered", "ann@gmail.com"), ("delivered", "bob@yahoo.com"),
                              ("failed", "fail@corp.example")]
    assert "next" not in rest["pagination"]


def test_sdk_account_tags(client: Client) -> None:
    """client.analytics_tags lists, updates and deletes the account's tags; analytics_tags_limits counts them."""
    listed = client.analytics_tags.create(data={"pagination": {"sort": "lastseen:desc", "limit": 10}})
    assert listed.status_code == 200, listed.text
    assert [t["tag"] for t in listed.json()["items"]] == ["news"]
    assert client.analytics_tags_limits.get().json() == {"limit": 5000, "count": 1, "limit_reached": False}
    assert client.analytics_tags.update(data={"tag": "news", "description": "Weekly"}).json() == {"message": "Tag updated"}
    assert client.analytics_tags.delete(filters={"tag": "news"}).json() == {"message": "Tag deleted"}
    assert client.analytics_tags_limits.get().json()["count"] == 0


def test_sdk_bounce_classification(client: Client) -> None:
    """client.bounce_classification posts a v2 metrics query: the bounce, classified."""
    query = {"dimensions": ["entity-name", "category"], "duration": "24h"}
    reply = client.bounce_classification.create(data=json.dumps(query), headers={"Content-Type": "application/json"})
    assert reply.status_code == 200, reply.text
    assert [(i["entity-name"], i["category"], i["metrics"]["non_critical_bounce_count"])
            for i in reply.json()["items"]] == [("Other", "BOUNCE", 1)]
