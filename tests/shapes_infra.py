"""The shape check's scenario for the account's infrastructure (validation, DKIM keys, x509, IPs, pools,
warmups, the IP allowlist, inbox placement, email preview): one call of each operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def infra_scenario(call: Callable[..., Any], domain: str) -> None:
    """Call each of these operations once (``domain``: a verified account domain)."""
    call("GET", "/v4/address/validate", params={"address": "bob@gmial.com"})
    call("POST", "/v4/address/validate", data={"address": "info@example.com"})
    # DKIM keys, rotation, certificates
    call("POST", "/v1/dkim/keys", data={"signing_domain": domain, "selector": "s2", "bits": "1024"})
    call("GET", "/v1/dkim/keys", params={"limit": "5"})
    call("GET", f"/v4/domains/{domain}/keys")
    call("PUT", f"/v4/domains/{domain}/keys/s2/activate")
    call("PUT", f"/v4/domains/{domain}/keys/s2/deactivate")
    call("DELETE", "/v1/dkim/keys", params={"signing_domain": domain, "selector": "s2"})
    call("PUT", f"/v1/dkim_management/domains/{domain}/rotation", data={"rotation_enabled": "true", "rotation_interval": "5d"})
    call("POST", f"/v1/dkim_management/domains/{domain}/rotate")
    call("POST", f"/v2/x509/email.{domain}")
    call("PUT", f"/v2/x509/email.{domain}")
    call("GET", f"/v2/x509/email.{domain}/status")
    # IPs, warmups, allowlist
    ips = [call("POST", "/v3/ips/request/new")["ip"] for _ in range(5)]
    call("GET", "/v3/ips/request/new")
    call("GET", "/v3/ips")
    call("GET", f"/v3/ips/{ips[0]}")
    call("POST", f"/v3/ips/{ips[0]}/domains")
    call("GET", f"/v3/ips/{ips[0]}/domains")
    call("DELETE", f"/v3/ips/{ips[0]}/domains")
    call("POST", f"/v3/ips/{ips[0]}/ip_band", data={"ip_band": "b1"})
    call("POST", f"/v3/ip_warmups/{ips[0]}")
    call("GET", "/v3/ip_warmups")
    call("GET", f"/v3/ip_warmups/{ips[0]}")
    call("DELETE", f"/v3/ip_warmups/{ips[0]}")
    call("POST", "/v2/ip_whitelist", data={"address": "10.0.0.1", "description": "a"})
    call("PUT", "/v2/ip_whitelist", data={"address": "10.0.0.1", "description": "b"})
    call("GET", "/v2/ip_whitelist")
    call("DELETE", "/v2/ip_whitelist", params={"address": "10.0.0.1"})
    # dedicated IP pools
    pool_id = call("POST", "/v3/ip_pools", data={"name": "p", "description": "d", "ip": ips[0]})["pool_id"]
    call("GET", "/v3/ip_pools")
    call("POST", f"/v3/domains/{domain}/ips", data={"pool_id": pool_id})
    call("GET", f"/v3/ip_pools/{pool_id}")
    call("GET", f"/v3/ip_pools/{pool_id}/domains")
    call("PUT", f"/v3/ip_pools/{pool_id}/ips/{ips[1]}")
    call("POST", f"/v3/ip_pools/{pool_id}/ips.json", json={"ips": [ips[4]]})
    call("DELETE", f"/v3/ip_pools/{pool_id}/ips/{ips[1]}")
    call("PATCH", f"/v3/ip_pools/{pool_id}", data={"description": "d2"})
    call("DELETE", f"/v3/domains/{domain}/ips/ip_pool")
    call("DELETE", f"/v3/domains/{domain}/pool/{ips[0]}")
    call("DELETE", f"/v3/domains/{domain}/ips/all")
    call("DELETE", f"/v3/ip_pools/{pool_id}")
    # dynamic IP pools
    call("POST", "/v3/dynamic_pools/all", data={"good_reputation": ips[1], "poor_reputation": ips[2], "new_senders": ips[3]})
    call("GET", "/v3/dynamic_pools")
    call("POST", f"/v3/dynamic_pools/dynamic_good/{ips[0]}")
    call("PATCH", "/v3/dynamic_pools/dynamic_good", data={"remove_ip": ips[0]})
    call("GET", "/v3/domains/dynamic_pools/assignable")
    call("GET", f"/v1/dynamic_pools/domains/{domain}/preview")
    call("POST", f"/v3/domains/{domain}/dynamic_pools")
    call("POST", "/v3/domains/all/dynamic_pools/enroll")
    call("GET", "/v1/dynamic_pools/domains")
    call("PUT", f"/v1/dynamic_pools/domains/{domain}/override", data={"pool": "dynamic_good"})
    call("DELETE", f"/v1/dynamic_pools/domains/{domain}/override")
    call("GET", f"/v1/dynamic_pools/domains/{domain}/history")
    call("GET", "/v1/dynamic_pools/history")
    call("DELETE", f"/v3/domains/{domain}/dynamic_pools", params={"replacement_ip": "shared"})
    call("DELETE", "/v3/dynamic_pools/all")
    # inbox placement, email preview
    call("POST", "/mock/inbox_results", json={"id": "r1"})
    call("GET", "/v4/inbox/results/r1")
    call("POST", "/mock/preview_tests", json={"id": "t1"})
    call("GET", "/v1/preview/tests/t1/results")
