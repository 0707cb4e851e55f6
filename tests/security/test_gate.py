"""Authentication at the gate: keys, tokens, sessions with CSRF, bad credentials, rate limits, the envelope."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.authn import SESSION_COOKIE
from smartcity.security.ratelimit import TokenBuckets
from smartcity.security.roles import Role
from tests.security.support import PASSWORD, api_key, as_key, entity, flush, production, running, security_of

V1 = "/ngsi-ld/v1"
PROBLEM = {"type", "title", "detail"}


def _problem(response: object, status: int, kind: str) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status, body  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM and body["type"].endswith(kind)
    return body


def test_no_credential_gets_401_with_a_bearer_challenge(store: Store) -> None:
    with running(store) as client:
        response = client.get(f"{V1}/entities", params={"type": "Thing"})
        _problem(response, 401, "/Unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "scak_keyid_nopesecret"},
        {"X-API-Key": "garbage"},
        {"Authorization": "Bearer scat_forged"},
        {"Authorization": "Bearer scak_x"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer"},
        {"Cookie": f"{SESSION_COOKIE}=forged"},
        {"X-API-Key": "x" * 5000},
    ],
)
def test_a_bad_credential_is_refused_never_downgraded_to_anonymous(store: Store, headers: dict[str, str]) -> None:
    with running(store, production(auth="open")) as client:
        response = client.get(f"{V1}/types", headers=headers)
        _problem(response, 401, "/Unauthorized")
        flush(client)
        admin = api_key(client, Role.ADMINISTRATOR)
        events = client.get("/security/events", params={"kind": "auth.failure"}, headers=as_key(admin)).json()
        assert events and all("nope" not in str(e) and "forged" not in str(e) for e in events)


def test_an_api_key_works_in_either_header_and_revocation_stops_it(store: Store) -> None:
    with running(store) as client:
        key = api_key(client, Role.DATA_PUBLISHER)
        assert client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:1"), headers=as_key(key)).status_code == 201
        bearer = {"Authorization": f"Bearer {key}"}
        assert client.get(f"{V1}/entities/urn:ngsi-ld:Thing:1", headers=bearer).status_code == 200
        admin = api_key(client, Role.ADMINISTRATOR)
        key_id = key.split("_")[1]
        assert client.delete(f"/security/apikeys/{key_id}", headers=as_key(admin)).status_code == 200
        _problem(client.get(f"{V1}/entities/urn:ngsi-ld:Thing:1", headers=bearer), 401, "/Unauthorized")


def test_client_credentials_give_a_bearer_token(store: Store) -> None:
    with running(store) as client:
        admin = api_key(client, Role.ADMINISTRATOR)
        made = client.post("/security/clients", json={"name": "dashboard", "role": "analyst"}, headers=as_key(admin))
        assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
        cid, secret = made.json()["id"], made.json()["clientSecret"]
        assert "clientSecret" not in str(client.get("/security/clients", headers=as_key(admin)).json())
        form = {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        token = client.post("/auth/token", data=form)
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        assert token.json()["expires_in"] > 0
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.get(f"{V1}/types", headers=bearer).status_code == 200
        # analysts read, they do not write
        _problem(client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:2"), headers=bearer), 403, "/Forbidden")
        basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
        assert (
            client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
            ).status_code
            == 200
        )
        wrong = client.post("/auth/token", data={**form, "client_secret": "sccs_wrong"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        grant = client.post("/auth/token", data={**form, "grant_type": "password"})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
        assert (
            client.post(
                "/auth/token", content=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
            ).json()["error"]
            == "invalid_request"
        )
        client.delete(f"/security/clients/{cid}", headers=as_key(admin))
        _problem(client.get(f"{V1}/types", headers=bearer), 401, "/Unauthorized")


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> object:
    return client.post("/auth/login", json={"username": username, "password": password})


def test_a_browser_session_needs_its_csrf_token_for_changes(store: Store) -> None:
    with running(store) as client:
        security_of(client.app).credentials.add_user("lan", PASSWORD, Role.IOC_OPERATOR)  # type: ignore[arg-type]
        signed = _sign_in(client, "lan")
        assert signed.status_code == 200 and signed.json()["role"] == "ioc_operator"  # type: ignore[attr-defined]
        csrf = signed.json()["csrfToken"]  # type: ignore[attr-defined]
        assert "httponly" in signed.headers["set-cookie"].lower()  # type: ignore[attr-defined]
        assert client.get("/auth/session").json()["subject"] == "lan"
        assert client.get(f"{V1}/types").status_code == 200
        _problem(client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:3")), 403, "/Forbidden")
        made = client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:3"), headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201
        assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert client.get("/auth/session").json()["kind"] == "anonymous"


def test_sign_in_failures_look_alike_and_lock_the_account(store: Store) -> None:
    with running(store, production(login_lockout=3)) as client:
        security_of(client.app).credentials.add_user("mai", PASSWORD, Role.ANALYST)  # type: ignore[arg-type]
        unknown = _sign_in(client, "nobody")
        wrong = _sign_in(client, "mai", "wrong password!")
        assert unknown.json() == wrong.json() and unknown.status_code == wrong.status_code == 401  # type: ignore[attr-defined]
        _sign_in(client, "mai", "wrong again!!")
        _sign_in(client, "mai", "and again!!!")
        assert _sign_in(client, "mai").status_code == 401  # type: ignore[attr-defined]
        flush(client)
        admin = api_key(client, Role.ADMINISTRATOR)
        kinds = [e["kind"] for e in client.get("/security/events", headers=as_key(admin)).json()]
        assert kinds.count("auth.failure") == 5 and kinds.count("auth.lockout") == 1
        records = client.get("/security/audit", params={"action": "security.session"}, headers=as_key(admin)).json()
        assert all(PASSWORD not in str(r) and "wrong" not in str(r["details"]) for r in records)
        assert _problem(_sign_in(client, "", ""), 400, "/BadRequestData")  # type: ignore[arg-type]


def test_writes_are_audited_with_who_what_where_and_the_outcome(store: Store) -> None:
    with running(store) as client:
        publisher = api_key(client, Role.DATA_PUBLISHER, tenants=("", "alpha"))
        analyst = api_key(client, Role.ANALYST)
        soc = api_key(client, Role.SOC_ANALYST)
        h = as_key(publisher, **{"NGSILD-Tenant": "alpha"})
        assert client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:4"), headers=h).status_code == 201
        assert client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:4"), headers=h).status_code == 409
        client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:5"), headers=as_key(analyst))
        client.get(f"{V1}/entities/urn:ngsi-ld:Thing:4", headers=h)  # reads are not audited
        flush(client)
        records = client.get("/security/audit", params={"action": "hub."}, headers=as_key(soc)).json()
        assert [(r["action"], r["outcome"], r["status"]) for r in records] == [
            ("hub.entity.create", "success", 201),
            ("hub.entity.create", "failure", 409),
            ("hub.entity.create", "denied", 403),
        ]
        first = records[0]
        assert first["actor"].startswith("apikey:") and first["actor_kind"] == "apikey"
        assert first["tenant"] == "alpha" and first["method"] == "POST" and first["target"] == f"{V1}/entities"
        assert first["client"] == "testclient" and first["role"] == "data_publisher"
        # the SOC reads it, an analyst does not
        _problem(client.get("/security/audit", headers=as_key(analyst)), 403, "/Forbidden")


def test_rate_limits_answer_429_with_retry_after(store: Store) -> None:
    with running(store, production(rate_limit=2.0)) as client:
        key = api_key(client, Role.ANALYST)
        statuses = [client.get(f"{V1}/types", headers=as_key(key)).status_code for _ in range(8)]
        assert statuses[:4] == [200] * 4 and 429 in statuses
        limited = client.get(f"{V1}/types", headers=as_key(key))
        _problem(limited, 429, "/TooManyRequests")
        assert int(limited.headers["Retry-After"]) >= 1
        # another credential has its own bucket
        assert client.get(f"{V1}/types", headers=as_key(api_key(client, Role.ANALYST))).status_code == 200
        flush(client)
        admin = api_key(client, Role.ADMINISTRATOR)
        events = client.get("/security/events", params={"kind": "ratelimit.hit"}, headers=as_key(admin)).json()
        assert len(events) == 1  # one event per key per interval, not one per refused request


def test_the_address_limit_covers_anonymous_callers(store: Store) -> None:
    with running(store, production(rate_limit_address=1.0, auth="open")) as client:
        statuses = [client.get("/health").status_code for _ in range(5)]
        assert statuses[:2] == [200, 200] and statuses[-1] == 429


def test_token_buckets_refill_at_their_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(2.0, 2.0, clock=lambda: now[0])
    assert buckets.take("a") is None and buckets.take("a") is None
    wait = buckets.take("a")
    assert wait == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") is None and buckets.take("b") is None
    assert TokenBuckets(0).take("a") is None
    few = TokenBuckets(1.0, 1.0, max_keys=2, clock=lambda: now[0])
    for key in "abc":
        few.take(key)
    assert len(few._buckets) == 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/security/users", b"not json"),
        ("/security/users", b'{"username": "x"}'),
        ("/security/users", b'{"username": "ab", "password": "short", "role": "analyst"}'),
        ("/security/users", b'{"username": "okname", "password": "long enough pass", "role": "emperor"}'),
        ("/security/users", b'{"username": "okname", "password": "long enough pass", "role": "analyst", "x": 1}'),
        ("/security/apikeys", b'{"name": "", "role": "device"}'),
        ("/security/apikeys", b'{"name": "k", "role": "department_officer"}'),
        ("/security/clients", b'{"name": "c", "role": "device", "tenants": ["bad tenant!"]}'),
        ("/auth/login", b"[1, 2]"),
        ("/auth/login", b'{"username": 5}'),
    ],
)
def test_bad_administrative_input_gets_a_400_problem(store: Store, path: str, body: bytes) -> None:
    with running(store) as client:
        admin = api_key(client, Role.ADMINISTRATOR)
        response = client.post(path, content=body, headers={**as_key(admin), "Content-Type": "application/json"})
        _problem(response, 400, "/BadRequestData")


def test_an_administrator_manages_users_over_the_api(store: Store) -> None:
    with running(store) as client:
        admin = as_key(api_key(client, Role.ADMINISTRATOR))
        made = client.post(
            "/security/users",
            json={"username": "hoa", "password": PASSWORD, "role": "department_officer", "department": "transport"},
            headers=admin,
        )
        assert made.status_code == 201 and made.json()["department"] == "transport"
        assert "password" not in str(client.get("/security/users", headers=admin).json()).lower()
        assert client.patch("/security/users/hoa", json={"disabled": True}, headers=admin).json()["disabled"] is True
        assert _sign_in(client, "hoa").status_code == 401  # type: ignore[attr-defined]
        client.patch("/security/users/hoa", json={"disabled": False, "role": "analyst"}, headers=admin)
        assert _sign_in(client, "hoa").json()["role"] == "analyst"  # type: ignore[attr-defined]
        _problem(client.get("/security/users/nobody", headers=admin), 404, "ResourceNotFound")
        _problem(client.patch("/security/users/hoa", json={}, headers=admin), 400, "BadRequestData")
        flush(client)
        events = client.get("/security/events", params={"kind": "admin.action"}, headers=admin).json()
        assert [e["action"] for e in events] == ["security.user.add", "security.user.change", "security.user.change"]
