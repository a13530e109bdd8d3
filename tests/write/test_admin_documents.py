"""The transforms and dashboards administration routes."""
from __future__ import annotations

from write_support import ADMIN, AUTH

RATE = {"type": {"function": "backdrop.transformers.tasks.rate.compute"},
        "input": {"data-group": "dinosaur", "data-type": "droppings"},
        "query-parameters": {"period": "week", "group_by": "kind", "collect": ["count:sum"]},
        "options": {"denominatorMatcher": ".+", "numeratorMatcher": "big", "matchingAttribute": "kind",
                    "valueAttribute": "count:sum"},
        "output": {"data-type": "big-rate"}}


def test_a_transform_is_created_with_an_id_and_its_task_name(client, dinosaurs):
    response = client.post("/transforms", json=RATE, headers=ADMIN)
    assert response.status_code == 201
    created = response.json
    assert created["type"] == "rate" and isinstance(created["id"], str)
    assert client.get(f"/transforms/{created['id']}", headers=ADMIN).json == {**created, "last_run": None}
    assert client.get("/transforms", headers=ADMIN).json == [{**created, "last_run": None}]


def test_transforms_need_the_admin_token(client, dinosaurs):
    assert client.post("/transforms", json=RATE).status_code == 401
    response = client.get("/transforms", headers=AUTH)
    assert response.status_code == 401
    assert response.json["message"] == "Unauthorized: invalid admin token"


def test_an_unknown_task_is_400(client, dinosaurs):
    response = client.post("/transforms", json={**RATE, "type": "alchemy"}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "Unknown transform type 'alchemy'"}


def test_a_missing_output_data_type_is_400(client, dinosaurs):
    response = client.post("/transforms", json={**RATE, "output": {}}, headers=ADMIN)
    assert response.status_code == 400 and "data-type" in response.json["message"]


def test_invalid_options_are_400(client, dinosaurs):
    response = client.post("/transforms", json={**RATE, "options": {}}, headers=ADMIN)
    assert response.status_code == 400 and response.json["message"].startswith("Invalid options")


def test_an_unknown_concrete_input_is_404(client):
    response = client.post("/transforms", json=RATE, headers=ADMIN)
    assert response.status_code == 404


def test_a_cycle_is_400_with_its_path(client, dinosaurs):
    response = client.post("/transforms", json={**RATE, "output": {"data-type": "droppings"}}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json["message"] == "Transform would create a cycle: dinosaurs -> dinosaurs"


def test_a_transform_is_replaced_and_deleted(client, dinosaurs):
    created = client.post("/transforms", json=RATE, headers=ADMIN).json
    replaced = client.put(f"/transforms/{created['id']}", json={**RATE, "output": {"data-type": "other"}}, headers=ADMIN)
    assert replaced.status_code == 200 and replaced.json["output"] == {"data-type": "other"}
    assert client.delete(f"/transforms/{created['id']}", headers=ADMIN).json == {"status": "ok"}
    assert client.get(f"/transforms/{created['id']}", headers=ADMIN).status_code == 404
    assert client.put(f"/transforms/{created['id']}", json=RATE, headers=ADMIN).status_code == 404
    assert client.delete(f"/transforms/{created['id']}", headers=ADMIN).status_code == 404


def test_dashboards_are_created_listed_replaced_and_deleted(client, dinosaurs):
    created = client.post("/dashboards", json={"slug": "dino", "data_sets": ["dinosaurs"]}, headers=ADMIN)
    assert created.status_code == 201
    assert created.json == {"slug": "dino", "published": True, "service_id": None, "data_sets": ["dinosaurs"]}
    again = client.post("/dashboards", json={"slug": "dino"}, headers=ADMIN)
    assert again.status_code == 409 and again.json["message"] == "Dashboard 'dino' already exists"
    client.post("/dashboards", json={"slug": "aardvark"}, headers=ADMIN)
    assert [d["slug"] for d in client.get("/dashboards", headers=ADMIN).json] == ["aardvark", "dino"]
    replaced = client.put("/dashboards/dino", json={"published": False}, headers=ADMIN)
    assert replaced.status_code == 200 and replaced.json["published"] is False
    deleted = client.delete("/dashboards/dino", headers=ADMIN)
    assert deleted.json == {"status": "ok", "message": "Deleted dino"}
    missing = client.get("/dashboards/dino", headers=ADMIN)
    assert missing.status_code == 404 and missing.json["message"] == "No dashboard named 'dino'"


def test_a_dashboard_naming_an_unknown_data_set_is_400(client):
    response = client.post("/dashboards", json={"slug": "dino", "data_sets": ["nope"]}, headers=ADMIN)
    assert response.status_code == 400
