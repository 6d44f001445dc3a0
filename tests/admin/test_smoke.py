def test_smoke(api, world):
    r = api.get("/api/v1/me")
    assert r.status_code == 200, r.data
    r = api.get("/api/v1/screens")
    assert r.status_code == 200, r.data
    print(r.data)
    assert len(r.data["items"]) == 3
