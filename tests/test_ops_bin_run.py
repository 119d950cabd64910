"""bin/run: the port it serves on and the public origin the service checks are the same.

The service refuses a signed-in page's changes from any origin but DMP_PUBLIC_ORIGIN (CSRF),
binds passkeys to it and links to it in e-mails: `PORT=8100 bin/run` served on 8100 with the
origin http://localhost:8000, so a browser could sign in and then do nothing else
("Cross-origin request refused"). The script runs here in a copy of the tree whose
`bin/setup` and `.venv/bin/dmp` only note how they were called.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAKE_DMP = """#!/usr/bin/env bash
printf '%s|%s\\n' "$*" "${DMP_PUBLIC_ORIGIN-}" >> "$(dirname "$0")/../../calls"
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "run", tmp_path / "bin" / "run")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for path, text in ((tmp_path / "bin" / "setup", "#!/usr/bin/env bash\n"),
                       (tmp_path / ".venv" / "bin" / "dmp", FAKE_DMP)):
        path.write_text(text)
    for path in (tmp_path / "bin" / "run", tmp_path / "bin" / "setup", tmp_path / ".venv" / "bin" / "dmp"):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def _run(tree: Path, **extra: str) -> tuple[str, list[tuple[str, str]]]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "DMP_PUBLIC_ORIGIN"}}
    env.update(extra)
    done = subprocess.run([str(tree / "bin" / "run")], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    calls = [tuple(line.split("|", 1)) for line in (tree / "calls").read_text().splitlines()]
    return done.stdout, calls  # type: ignore[return-value]


def test_another_port_gives_the_service_that_origin(tmp_path: Path) -> None:
    out, calls = _run(_tree(tmp_path), PORT="8123")
    assert calls == [
        ("migrate", "http://localhost:8123"),
        ("seed-demo", "http://localhost:8123"),
        ("serve --host 127.0.0.1 --port 8123", "http://localhost:8123"),
    ]
    assert "DMP running at http://localhost:8123 " in out
    assert "http://localhost:8123/dev/mail" in out


def test_default_port_and_origin(tmp_path: Path) -> None:
    out, calls = _run(_tree(tmp_path))
    assert calls[-1] == ("serve --host 127.0.0.1 --port 8000", "http://localhost:8000")
    assert "DMP running at http://localhost:8000 " in out


def test_an_origin_given_is_kept(tmp_path: Path) -> None:
    _, calls = _run(_tree(tmp_path), PORT="8124", DMP_PUBLIC_ORIGIN="http://localhost:9000")
    assert calls[-1] == ("serve --host 127.0.0.1 --port 8124", "http://localhost:9000")
