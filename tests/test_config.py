from __future__ import annotations

from pathlib import Path

import pytest

from firebrick.config import load_settings
from firebrick.errors import InvalidInput


def test_defaults_from_an_empty_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, {})
    assert (settings.host, settings.port) == ("127.0.0.1", 8780)
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'firebrick.db'}"
    assert settings.public_url == "http://127.0.0.1:8780"
    [backend] = settings.backends
    assert backend.path == tmp_path / "data" / "pools" / "file" and backend.format == "raw"
    assert settings.quota.volumes == 10 and settings.quota.gigabytes == 1000


def test_file_then_environment_then_arguments(tmp_path: Path) -> None:
    config = tmp_path / "firebrick.toml"
    config.write_text(
        '[server]\nport = 9000\nhost = "0.0.0.0"\n[database]\nurl = "postgresql+psycopg://db/x"\n'
        '[quota]\nvolumes = 3\n[[backends]]\nname = "fast"\npool = "p1"\nformat = "qcow2"\ncapacity_gb = 50\n'
    )
    environ = {"FIREBRICK_PORT": "9100", "FIREBRICK_DATA_DIR": str(tmp_path / "d"), "FIREBRICK_ADMIN_PASSWORD": "pw"}
    settings = load_settings(config, environ, host="127.0.0.2")
    assert (settings.host, settings.port) == ("127.0.0.2", 9100)
    assert settings.database_url == "postgresql+psycopg://db/x"
    assert settings.quota.volumes == 3 and settings.admin_password == "pw"
    [backend] = settings.backends
    assert (backend.name, backend.pool, backend.format, backend.capacity_gb) == ("fast", "p1", "qcow2", 50)
    assert backend.path == tmp_path / "d" / "pools" / "fast"


def test_bad_values_are_reported(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 'eighty'\n")
    with pytest.raises(InvalidInput, match="port must be an integer"):
        load_settings(config, {})
    config.write_text("not toml [")
    with pytest.raises(InvalidInput, match="cannot read configuration"):
        load_settings(config, {})
