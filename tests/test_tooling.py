"""The checks that run before code is shared: .pre-commit-config.yaml's hooks pass on the
tree, run the project's own tools, and run what `make lint` runs (ruff and mypy)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".pre-commit-config.yaml"


def hooks() -> list[dict]:
    config = yaml.safe_load(CONFIG.read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def lint_commands() -> list[str]:
    """The commands of the Makefile's lint recipe, with $(BIN) written as .venv/bin."""
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has a lint target"
    return [line.strip().replace("$(BIN)", ".venv/bin") for line in recipe[1].splitlines()]


def test_every_hook_is_local_and_runs_a_tool_of_the_venv_or_pre_commits_own_grep():
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # nothing fetched
    for hook in hooks():
        if hook["language"] == "pygrep":
            re.compile(hook["entry"])
            continue
        assert hook["language"] == "system", hook["id"]
        executable = hook["entry"].split()[0]
        assert executable.startswith(".venv/bin/"), hook["id"]
        assert (ROOT / executable).is_file(), f"{hook['id']}: {executable}"


def test_the_hooks_run_what_make_lint_runs():
    entries = {hook["entry"] for hook in hooks()}
    commands = lint_commands()
    assert any(command.startswith(".venv/bin/mypy") for command in commands)
    assert set(commands) <= entries


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_hooks_pass_on_the_tree(tmp_path):
    """Every hook on every tracked file (none changes a file)."""
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color=never"],
        cwd=ROOT,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = set(re.findall(r"^(.+?)\.{3,}Passed$", result.stdout, re.M))
    assert ran == {hook["name"] for hook in hooks()}, result.stdout
