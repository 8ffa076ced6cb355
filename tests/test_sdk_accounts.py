"""The official Python SDK (`mailgun` on PyPI) on subaccounts, monthly limits, users and send alerts,
with the SDK's own bugs marked."""

from __future__ import annotations

import pytest
from mailgun.client import Client

from mailgun_mock import MailgunMock

BEHALF = "X-Mailgun-On-Behalf-Of"


@pytest.fixture
def client(mailgun_mock: MailgunMock) -> Client:
    """The official SDK pointed at the mock."""
    return Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url)


def test_sdk_subaccounts_create_list_send_on_behalf_and_delete(client: Client, mailgun_mock: MailgunMock) -> None:
    """The SDK creates and lists subaccounts, sends on behalf of one (its own outbox), and deletes it."""
    created = client.accounts_subaccounts.create(filters={"name": "shop"})
    assert created.status_code == 200, created.text
    sub = created.json()["subaccount"]
    listed = client.accounts_subaccounts.get(filters={"sort": "asc"}).json()
    assert listed == {"subaccounts": [sub], "total": 1}
    sent = client.messages.create(domain="example.com", headers={BEHALF: sub["id"]},
                                  data={"from": "a@example.com", "to": "b@x.example", "subject": "s", "text": "t"})
    assert sent.status_code == 200, sent.text
    assert mailgun_mock.outbox == []
    assert [s.subject for s in mailgun_mock.backend.subaccount_states[sub["id"]].store.sent()] == ["s"]
    deleted = client.accounts_subaccounts.delete(headers={BEHALF: sub["id"]})
    assert deleted.json() == {"message": "Subaccount successfully deleted"}
    assert client.accounts_subaccounts.get(filters={"closed": "true"}).json()["subaccounts"][0]["status"] == "closed"


@pytest.mark.xfail(reason="SDK bug (mailgun 1.10): no route puts a subaccount id into "
                          "/v5/accounts/subaccounts/{id}[/disable|/enable|/features|/limit/custom/monthly]: the "
                          "default handler drops subaccount_id (a GET lists every subaccount instead) and a "
                          "'{subaccountId}' attribute name is lower-cased before interpolation", strict=True)
def test_sdk_subaccount_by_id(client: Client) -> None:
    """The SDK reads one subaccount by id."""
    sub = client.accounts_subaccounts.create(filters={"name": "shop"}).json()["subaccount"]
    assert client.accounts_subaccounts.get(subaccount_id=sub["id"]).json() == {"subaccount": sub}


def test_sdk_subaccount_ip_pool(client: Client) -> None:
    """The SDK's subaccount_ip_pool route assigns and removes a subaccount's IP pool."""
    sub = client.accounts_subaccounts.create(filters={"name": "shop"}).json()["subaccount"]
    assigned = client.subaccount_ip_pool.put(subaccountId=sub["id"], data={"pool_id": "pool-1"})
    assert assigned.json()["message"] == "success"
    removed = client.subaccount_ip_pool.delete(subaccountId=sub["id"], filters={"pool_id": "pool-1"})
    assert removed.status_code == 200, removed.text


@pytest.mark.xfail(reason="SDK bug (mailgun 1.10): accounts_subaccounts_ip_pools_all splits 'ip_pools' at its "
                          "underscore and calls /v5/accounts/subaccounts/ip/pools/all", strict=True)
def test_sdk_subaccount_ip_pools_all(client: Client) -> None:
    """The SDK lists every subaccount's IP pool."""
    assert client.accounts_subaccounts_ip_pools_all.get().json() == {"items": [], "total_count": 0}


def test_sdk_account_monthly_limit(client: Client) -> None:
    """The SDK sets, reads and deletes the account's custom monthly limit, with Mailgun's answers."""
    assert client.accounts_limit_custom_monthly.get().json() == {"message": "No threshold for account"}
    assert client.accounts_limit_custom_monthly.put(filters={"limit": 2000}).json() == {"success": True}
    assert client.accounts_limit_custom_monthly.get().json() == {"limit": 2000, "current": 0, "period": "1m"}
    refused = client.accounts_limit_custom_enable.put()
    assert refused.json() == {"message": "Unable to re-enable account with current account disablement"}
    assert client.accounts_limit_custom_monthly.delete().json() == {"success": True}


def test_sdk_users(client: Client) -> None:
    """The SDK's users handler lists the account's user, reads 'me' and reads it by id."""
    me = client.users.get(user_id="me").json()
    assert me["role"] == "admin"
    assert client.users.get(filters={"role": "admin"}).json() == {"users": [me], "total": 1}
    assert client.users.get(user_id=me["id"]).json() == me


def test_sdk_send_alerts(client: Client) -> None:
    """The SDK creates a send alert (JSON), lists it and reads the hits."""
    alert = {"name": "bounces", "metric": "hard_bounce_rate", "comparator": ">", "limit": "5", "dimension": "domain"}
    created = client.thresholds_alerts_send.create(data=alert, headers={"Content-Type": "application/json"})
    assert created.status_code == 200, created.text
    assert [a["name"] for a in client.thresholds_alerts_send.get().json()["items"]] == ["bounces"]
    assert client.thresholds_alerts_send_bounces.get().json()["metric"] == "hard_bounce_rate"
    assert client.thresholds_hits.get().json() == {"items": [], "total": 0}
