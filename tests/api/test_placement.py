"""Inbox placement results and email preview results: only those the control API created, else Mailgun's 404."""

from __future__ import annotations

from tests.conftest import Api


def test_inbox_result_created_then_read(api: Api) -> None:
    """A result made with /mock/inbox_results answers on /v4/inbox/results/<id>, with its fields and the
    default seed results; provider keeps one provider's; an unknown id is a 404."""
    missing = api.get("/v4/inbox/results/nope")
    assert (missing.status, missing.json()["message"]) == (404, "result nope not found")
    made = api.post("/mock/inbox_results", json={"id": "r1", "subject": "Hello", "sender": "a@example.com"}).json()
    assert made["result"]["rid"] == "r1"
    result = api.get("/v4/inbox/results/r1").json()["result"]
    assert (result["subject"], result["sender"], result["status"]) == ("Hello", "a@example.com", "complete")
    assert set(result["seed_results"]) == {"gmail.com", "yahoo.com", "outlook.com"}
    only = api.get("/v4/inbox/results/r1", params={"provider": "gmail.com"}).json()["result"]
    assert list(only["seed_results"]) == ["gmail.com"]
    assert api.post("/mock/inbox_results", json={"id": "r1"}).status == 400
    assert api.post("/mock/inbox_results", json=[1]).status == 400
    generated = api.post("/mock/inbox_results", json={}).json()["result"]["rid"]
    assert api.get(f"/v4/inbox/results/{generated}").status == 200


def test_preview_results_created_then_read(api: Api) -> None:
    """A preview test made with /mock/preview_tests answers its clients' results; given results are kept as
    given; an unknown test is a 404."""
    assert api.get("/v1/preview/tests/nope/results").status == 404
    test_id = api.post("/mock/preview_tests", json={"clients": ["gmail_chrome", "outlook_2021"]}).json()["id"]
    results = api.get(f"/v1/preview/tests/{test_id}/results").json()
    assert set(results) == {"gmail_chrome", "outlook_2021"}
    assert (results["gmail_chrome"]["display_name"], results["gmail_chrome"]["status"]) == ("Gmail (Chrome)", "Complete")
    given = {"custom": {"id": "custom", "status": "Processing"}, "gone": None}
    api.post("/mock/preview_tests", json={"id": "t2", "results": given})
    assert api.get("/v1/preview/tests/t2/results").json() == given
    assert api.post("/mock/preview_tests", json={"clients": "gmail"}).status == 400


def test_placement_results_are_reset(api: Api) -> None:
    """POST /mock/reset forgets the results."""
    api.post("/mock/inbox_results", json={"id": "r1"})
    api.post("/mock/preview_tests", json={"id": "t1"})
    api.post("/mock/reset")
    assert api.get("/v4/inbox/results/r1").status == 404
    assert api.get("/v1/preview/tests/t1/results").status == 404
