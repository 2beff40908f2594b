"""The README's commands, CI, environment.yml and pyproject.toml stay in agreement."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import ROOT


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= set(extra)
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert set(pip) == declared


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.M)
    assert commands[:2] == ["make book", "make test"], "the README opens with the two commands"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_constraints_pin_what_pyproject_allows():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!]", d)[0] for d in project["dependencies"]}
    names |= {re.split(r"[<>=!]", d)[0] for extra in project["optional-dependencies"].values() for d in extra}
    assert set(pins) <= names
