def test_me_returns_the_logged_in_user(client, agent):
    response = client.get("/api/auth/me", headers=agent.headers)
    assert response.status_code == 200
    assert response.json["data"]["email"] == agent.email
