"""Domain keys (/v1/dkim/keys, /v4/domains/<authority>/keys), DKIM rotation and tracking certificates:
real RSA keys whose public part is the domain's DKIM record."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Api

D = "keys.example"


def _public_key(value: str) -> rsa.RSAPublicKey:
    assert value.startswith("k=rsa; p=")
    key = serialization.load_der_public_key(base64.b64decode(value.removeprefix("k=rsa; p=")))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _dkim_record(api: Api, domain: str = D) -> dict:
    records = api.get(f"/v4/domains/{domain}").json()["sending_dns_records"]
    return next(r for r in records if "._domainkey." in r["name"])


@pytest.fixture
def domain(api: Api) -> str:
    """An account domain, verified."""
    assert api.post("/v4/domains", data={"name": D}).status == 200
    api.put(f"/v4/domains/{D}/verify")
    return D


def test_domain_dkim_record_is_a_real_rsa_public_key(api: Api, domain: str) -> None:
    """The domain's DKIM record holds a 1024-bit RSA public key (Mailgun's default size), the same one its
    key listing shows."""
    record = _dkim_record(api)
    assert record["name"] == f"pic._domainkey.{D}" and record["is_active"] is True
    assert _public_key(record["value"]).key_size == 1024
    keys = api.get(f"/v4/domains/{D}/keys").json()["items"]
    assert [(k["selector"], k["dns_record"]["value"]) for k in keys] == [("pic", record["value"])]


def test_domain_created_with_key_size_and_selector(api: Api) -> None:
    """dkim_key_size and dkim_selector at creation give the domain's key that size and selector."""
    api.post("/v4/domains", data={"name": "big.example", "dkim_key_size": "2048", "dkim_selector": "k1"})
    record = _dkim_record(api, "big.example")
    assert record["name"] == "k1._domainkey.big.example" and _public_key(record["value"]).key_size == 2048
    refused = api.post("/v4/domains", data={"name": "odd.example", "dkim_key_size": "512"})
    assert (refused.status, refused.json()["message"]) == (400, "dkim_key_size must be 1024 or 2048")


def test_dkim_authority_delegated_to_the_root_domain(api: Api) -> None:
    """A subdomain whose DKIM authority is not itself publishes its root domain's key; back to itself, its own."""
    api.post("/v4/domains", data={"name": "root.example"})
    api.post("/v4/domains", data={"name": "mail.root.example"})
    own = _dkim_record(api, "mail.root.example")["value"]
    root = _dkim_record(api, "root.example")["value"]
    assert own != root
    delegated = api.put("/v3/domains/mail.root.example/dkim_authority", data={"self": "false"}).json()
    assert delegated["changed"] is True
    assert next(r for r in delegated["sending_dns_records"] if "_domainkey" in r["name"])["value"] == root
    assert _dkim_record(api, "mail.root.example")["value"] == root
    api.put("/v3/domains/mail.root.example/dkim_authority", data={"self": "true"})
    assert _dkim_record(api, "mail.root.example")["value"] == own


def test_dkim_key_create_activate_deactivate_delete(api: Api, domain: str) -> None:
    """A created key is inactive beside the active one; activation, deactivation and deletion follow
    Mailgun's rules (the last active key can't go)."""
    created = api.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s2", "bits": "1024"}).json()
    assert (created["signing_domain"], created["selector"]) == (D, "s2")
    assert created["dns_record"]["is_active"] is False
    assert _public_key(created["dns_record"]["value"]).key_size == 1024
    assert api.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s2"}).status == 400
    on = api.put(f"/v4/domains/{D}/keys/s2/activate").json()
    assert on == {"message": "domain key activated", "authority": D, "selector": "s2", "active": True}
    assert api.put(f"/v4/domains/{D}/keys/pic/deactivate").json()["active"] is False
    assert _dkim_record(api)["is_active"] is False
    last = api.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "s2"})
    assert (last.status, last.json()["message"]) == (400, "cannot delete domain key: must have at least one active domain key")
    assert api.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "pic"}).json() == {"message": "success"}
    assert [k["selector"] for k in api.get(f"/v4/domains/{D}/keys").json()["items"]] == ["s2"]
    missing = api.put(f"/v4/domains/{D}/keys/nope/activate")
    assert (missing.status, missing.json()["message"]) == (404, "domain key not found")
    assert api.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "nope"}).status == 404


def test_dkim_key_import_pem(api: Api, domain: str) -> None:
    """An imported PEM becomes the key: its public part is the record's value; garbage is a 400."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    created = api.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "imp"},
                       files={"pem": ("key.pem", pem.encode(), "application/x-pem-file")}).json()
    assert _public_key(created["dns_record"]["value"]).public_numbers() == private.public_key().public_numbers()
    assert api.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "bad", "pem": "nope"}).status == 400


def test_dkim_key_list_pages_and_filters(api: Api, domain: str) -> None:
    """/v1/dkim/keys lists every domain's keys, filtered by signing domain and selector, paged by limit."""
    api.post("/v4/domains", data={"name": "other.example"})
    api.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s2", "bits": "1024"})
    every = api.get("/v1/dkim/keys").json()
    assert {(k["signing_domain"], k["selector"]) for k in every["items"]} >= {(D, "pic"), (D, "s2"), ("other.example", "pic")}
    mine = api.get("/v1/dkim/keys", params={"signing_domain": D, "limit": "1"}).json()
    assert [k["selector"] for k in mine["items"]] == ["pic"]
    following = api.get(mine["paging"]["next"].removeprefix(api.url or "http://localhost")).json()
    assert [k["selector"] for k in following["items"]] == ["s2"]
    assert [k["signing_domain"] for k in api.get("/v1/dkim/keys", params={"selector": "s2"}).json()["items"]] == [D]


def test_dkim_selector_change_shows_another_key(api: Api, domain: str) -> None:
    """Changing the domain's selector publishes a different real key under the new selector."""
    before = _dkim_record(api)
    assert api.put(f"/v3/domains/{D}/dkim_selector", data={"dkim_selector": "mx2"}).status == 200
    after = _dkim_record(api)
    assert after["name"] == f"mx2._domainkey.{D}" and after["value"] != before["value"]


def test_dkim_rotation_settings_and_rotate(api: Api, domain: str) -> None:
    """Rotation settings take at least 5 days; rotating makes a fresh key the domain's active one."""
    answer = api.put(f"/v1/dkim_management/domains/{D}/rotation",
                     data={"rotation_enabled": "true", "rotation_interval": "7d"}).json()["domain"]
    assert (answer["name"], answer["rotation_enabled"], answer["rotation_interval"], answer["state"]) == (
        D, "true", "7d", "enabled")
    short = api.put(f"/v1/dkim_management/domains/{D}/rotation", data={"rotation_enabled": "true", "rotation_interval": "2d"})
    assert short.status == 400 and short.json()["Reason"] == "rotation_interval must be at least 5d"
    off = api.put(f"/v1/dkim_management/domains/{D}/rotation", data={"rotation_enabled": "false", "rotation_interval": "7d"})
    assert off.json()["Reason"] == "rotation_interval is not allowed unless also enabling DKIM rotation"
    before = _dkim_record(api)
    assert api.post(f"/v1/dkim_management/domains/{D}/rotate").json() == {"message": "ok"}
    after = _dkim_record(api)
    assert after["name"] == f"pdk1._domainkey.{D}" and after["value"] != before["value"] and after["is_active"]
    keys = {k["selector"]: k["dns_record"]["is_active"] for k in api.get(f"/v4/domains/{D}/keys").json()["items"]}
    assert keys == {"pic": False, "pdk1": True}
    missing = api.post("/v1/dkim_management/domains/nowhere.example/rotate")
    assert (missing.status, missing.json()["Description"]) == (404, "domain not found")


def test_dkim_rotate_needs_a_verified_domain(api: Api) -> None:
    """An unverified domain can't rotate: Mailgun's 400 names its state."""
    api.post("/v4/domains", data={"name": "new.example"})
    refused = api.post("/v1/dkim_management/domains/new.example/rotate")
    assert refused.status == 400
    assert refused.json()["Reason"] == "only domains in enabled can rotate their keys. Current state: wait_verify"


def test_x509_certificate_lifecycle(api: Api, domain: str) -> None:
    """A tracking certificate: 404 before it is asked for, active once generated (a real certificate for
    the host), 409 while valid, expired on the mock's clock after 90 days, then regenerated."""
    host = f"email.{D}"
    assert api.get(f"/v2/x509/{host}/status").json()["Description"] == (
        f"Please initiate x509 key pair generation at POST /v2/x509/{host}")
    started = api.post(f"/v2/x509/{host}")
    assert (started.status, started.json()["location"]) == (202, f"/v2/x509/{host}/status")
    status = api.get(f"/v2/x509/{host}/status").json()
    assert (status["status"], status["error"]) == ("active", None)
    certificate = x509.load_pem_x509_certificate(status["certificate"].encode())
    assert certificate.subject.rfc4514_string() == f"CN={host}"
    assert api.post(f"/v2/x509/{host}").status == 409
    assert api.put(f"/v2/x509/{host}").status == 409
    api.backend.advance_clock(91 * 86400)
    assert api.get(f"/v2/x509/{host}/status").json()["status"] == "expired"
    assert api.put(f"/v2/x509/{host}").status == 202
    assert api.get(f"/v2/x509/{host}/status").json()["status"] == "active"
    assert api.post("/v2/x509/email.unknown.example").status == 404
