"""Cached builds: a cached binary is reused, a build is run once, a failed build says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from navan_voice.config import Settings
from navan_voice.domain.errors import SetupError
from navan_voice.stack.binaries import ensure_binary

pytestmark = pytest.mark.unit


def _script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "build.sh"
    script.write_text("#!/usr/bin/env bash\nset -e\n" + body)
    return script


def test_build_once_then_cached(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    runs = tmp_path / "runs"
    script = _script(
        tmp_path,
        'echo run >> "' + str(runs) + '"\n'
        'mkdir -p "$NAVAN_CACHE_DIR/bin"; out="$NAVAN_CACHE_DIR/bin/tool-$1"\n'
        'echo "#!/bin/sh" > "$out"; chmod +x "$out"; echo "$out"\n',
    )
    first = ensure_binary(settings, name="tool", version="v1", script=script)
    second = ensure_binary(settings, name="tool", version="v1", script=script)
    assert first == second == tmp_path / "cache" / "bin" / "tool-v1"
    assert runs.read_text().count("run") == 1  # the second call found the cached binary


def test_failed_build_names_the_script_and_what_it_needs(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    script = _script(tmp_path, "echo 'no compiler' >&2; exit 3\n")
    with pytest.raises(SetupError, match="exit 3") as info:
        ensure_binary(settings, name="tool", version="v2", script=script, needs="Go 1.26")
    assert str(script) in str(info.value) and "Go 1.26" in str(info.value)
