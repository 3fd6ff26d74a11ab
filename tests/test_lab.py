"""The one lab object (labkit.lab.Lab): who owns the backend, and what a file that does not start does."""
from __future__ import annotations

import pytest

from labkit.backend import connect
from labkit.lab import Lab
from labkit.settings import Settings, project_root
from labkit.student.runner import StudentServerError


@pytest.fixture()
def settings(fake, tmp_path):
    return Settings(backend="fake", api_base=fake.url, root=project_root(), db_path=tmp_path / "kit.db",
                    out_dir=tmp_path / "out", start_timeout=8.0)


def test_a_borrowed_backend_outlives_the_lab_and_its_endpoint_does_not(settings, fake):
    with connect(settings) as backend:
        lab = Lab.start(settings, checkout=False, notebook=False, backend=backend)
        endpoint = lab.endpoint_id
        assert endpoint in {e["id"] for e in backend.client.v1.webhook_endpoints.list().to_dict()["data"]}
        lab.close()
        assert not lab.own_backend and not backend._closed and not lab.work.exists()
        assert endpoint not in {e["id"] for e in backend.client.v1.webhook_endpoints.list().to_dict()["data"]}
        with pytest.raises(Exception, match="closed"):
            lab.client  # noqa: B018
    own = Lab.start(settings, checkout=False, webhooks=False, notebook=False)
    own.close()
    assert own.own_backend and own.backend._closed


def test_a_file_that_does_not_start_is_kept_unless_strict(settings, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with Lab.start(settings, empty, webhooks=False, strict=False, notebook=False) as lab:
        assert lab.checkout is None and lab.errors["checkout"].kind == "missing"
    with pytest.raises(StudentServerError, match="checkout_server.py not found"):
        Lab.start(settings, empty, webhooks=False, notebook=False)
