"""The GitHub Actions workflows: each is valid against GitHub's workflow schema (check-jsonschema, with its
vendored copy of the schema, so offline), and the book workflow builds and publishes what the README's book
command builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from img2imu_lib import store

from .conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BOOK = ROOT / ".github" / "workflows" / "book.yml"


def readme_book_command() -> str:
    commands = re.findall(r"^\s*(make \w+)\s*$", (ROOT / "README.md").read_text(), flags=re.M)
    return commands[0]  # the README opens with the book command, then the test command


def steps_using(steps: list[dict], action: str) -> list[dict]:
    return [s for s in steps if s.get("uses", "").split("@")[0] == action]


def test_there_are_workflows():
    assert BOOK in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_against_the_schema(workflow):
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(workflow)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{workflow.name} is not a valid workflow:\n{result.stdout[-3000:]}{result.stderr}"


def test_the_schema_check_finds_a_broken_workflow(tmp_path):
    broken = tmp_path / "book.yml"
    broken.write_text(BOOK.read_text().replace("runs-on:", "run-on:", 1))
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(broken)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "run-on" in result.stdout


def test_book_workflow_builds_with_the_readme_command_and_publishes_the_html(monkeypatch):
    workflow = yaml.safe_load(BOOK.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}

    build = workflow["jobs"]["build"]
    steps = build["steps"]
    runs = [s["run"].strip() for s in steps if "run" in s]
    assert runs == [readme_book_command()] == ["make book"]
    built = next(i for i, s in enumerate(steps) if "run" in s)
    [upload] = steps_using(steps, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html" and steps.index(upload) > built
    assert steps_using(steps, "actions/configure-pages")
    [python] = steps_using(steps, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and steps_using(steps, "actions/setup-node")

    monkeypatch.delenv(store.CACHE_ENV, raising=False)  # the default cache folder the build writes to
    [cache] = steps_using(steps, "actions/cache")
    assert Path(cache["with"]["path"]).expanduser() == store.cache_dir()
    assert steps.index(cache) < built

    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    [deployment] = steps_using(deploy["steps"], "actions/deploy-pages")
    assert deploy["environment"]["url"] == f"${{{{ steps.{deployment['id']}.outputs.page_url }}}}"
