"""app.yaml validation: every problem named with file and field; the shipped file is valid."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_app_config, load_environment, parse_app_config
from bot.configfile import _UniqueKeyLoader, parse_yaml
from checks import default_registry
from checks.durations import format_duration, parse_duration

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
product: P
roles:
  eng: {title: Engineering Lead, members: [U1], attestations: [Code reviewed]}
  cto: {title: CTO, members: "U9, U8", final: true}
sections:
  - id: infra
    title: Infrastructure
    items:
      - {id: health, title: Health, check: {type: http, url: "${TARGET_URL:-http://x}/h"}}
      - {id: cluster, title: Cluster, owner: eng}
"""


def parse(text: str, env: dict[str, str] | None = None):
    return parse_app_config(textwrap.dedent(text), env or {}, default_registry(), "app.yaml")


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, env)
    return caught.value.problems


def test_shipped_app_yaml_holds_the_seed_checklist() -> None:
    app = load_app_config(ROOT / "app.yaml", env={})
    titles = [s.title for s in app.sections]
    assert titles[:7] == [
        "Infrastructure Readiness",
        "Application Readiness",
        "Security Readiness",
        "Monitoring Readiness",
        "Testing Readiness",
        "CI/CD Readiness",
        "Documentation Readiness",
    ]
    assert len(app.items) >= 100
    assert [r.title for r in app.roles.values()] == [
        "Engineering Lead",
        "DevOps Lead",
        "Security Lead",
        "Product Owner",
        "CTO/Engineering Manager",
    ]
    assert app.roles[app.final_role].attestations == [
        "All approvals received",
        "Final review completed",
        "Production deployment approved",
    ]
    assert [p.duration for p in app.post_deploy.phases] == [
        timedelta(hours=1),
        timedelta(hours=24),
        timedelta(days=7),
    ]
    assert any(i.check and i.check.type == "headers" for i in app.items)


def test_minimal_config_parses_with_env_and_lists() -> None:
    app = parse(MINIMAL, {"TARGET_URL": "http://t:1"})
    assert app.roles["cto"].members == ["U9", "U8"]
    assert app.items[0].check is not None
    assert app.items[0].check.url == "http://t:1/h"  # type: ignore[attr-defined]
    assert app.items[0].check.timeout == timedelta(seconds=10)
    assert app.final_role == "cto"


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:8080/docs/x.md"),
        ({"TARGET_URL": "http://t:1"}, "http://t:1/docs/x.md"),
        ({"TARGET_URL": "http://t:1", "DOCS_URL": "https://d/${EVIL}"}, "https://d/${EVIL}/x.md"),
    ],
)
def test_a_default_may_name_another_variable(env: dict[str, str], url: str) -> None:
    text = MINIMAL.replace(
        '"${TARGET_URL:-http://x}/h"',
        '"${DOCS_URL:-${TARGET_URL:-http://localhost:8080}/docs}/x.md"',
    )
    check = parse(text, env).items[0].check
    assert check is not None and check.url == url  # type: ignore[attr-defined]


def test_every_problem_is_reported_with_its_field() -> None:
    found = problems("""
        product: P
        roles:
          eng: {title: Eng, attestations: []}
          cto: {title: CTO, members: [U9], final: true}
          cfo: {title: CFO, members: [U7], final: true}
        sections:
          - id: infra
            title: Infra
            items:
              - {id: a, title: A, check: {type: carrier_pigeon}}
              - {id: a, title: A again, owner: nobody}
              - {id: b, title: B, check: {type: http, url: "${UNSET_VAR}", timeout: 5 minutes}}
    """)
    text = "\n".join(found)
    assert all(p.startswith("app.yaml: ") for p in found)
    assert "app.yaml: sections.0.items.2.check.url: ${UNSET_VAR} is not set" in text
    assert text.count("sections.0.items.2.check.url: ") == 1  # not again as a bad URL
    assert "app.yaml: sections.0.items.2.check.timeout: bad duration '5 minutes'" in text


def test_an_unset_variable_is_the_one_problem_of_its_field() -> None:
    text = MINIMAL.replace('"${TARGET_URL:-http://x}/h"', '"${UNSET_VAR}/h"')
    (only,) = problems(text)
    assert (
        only == "app.yaml: sections.0.items.0.check.url: ${UNSET_VAR} is not set in the environment"
    )


def test_a_phase_runs_within_its_duration() -> None:
    phases = "post_deploy:\n  phases:\n    - {id: hour, title: Hour, duration: 1h, every: %s}\n"
    assert parse(MINIMAL + phases % "1h").post_deploy.phases[0].every == timedelta(hours=1)
    (only,) = problems(MINIMAL + phases % "2h")
    assert only == (
        "app.yaml: post_deploy.phases.0: every (2h) is longer than the phase's duration "
        "(1h): it would run once, at its start"
    )


def test_semantic_problems_once_the_shape_is_right() -> None:
    found = problems("""
        product: P
        roles:
          eng: {title: Eng, attestations: []}
          cto: {title: CTO, members: [U9], final: true}
          cfo: {title: CFO, members: [U7], final: true}
        sections:
          - id: infra
            title: Infra
            items:
              - {id: a, title: A, check: {type: carrier_pigeon}}
              - {id: a, title: A again, owner: nobody}
              - {id: c, title: C, check: {type: http, url: "ftp://x"}}
    """)
    text = "\n".join(found)
    assert "app.yaml: roles: only one role may be final, found cto, cfo" in text
    assert "app.yaml: roles.eng.members: missing member list" in text
    assert "app.yaml: sections.0.items.0.check.type: unknown check type 'carrier_pigeon'" in text
    assert "app.yaml: sections.0.items.1.id: duplicate item id 'a'" in text
    assert "app.yaml: sections.0.items.1.owner: no role 'nobody'" in text
    assert "app.yaml: sections.0.items.2.check.url: String should match pattern" in text


def test_no_final_role_and_unknown_field_and_duplicate_key() -> None:
    assert problems(MINIMAL.replace("final: true", "final: false")) == [
        "app.yaml: roles: no role has `final: true` (the final approver)"
    ]
    assert problems(MINIMAL.replace("product: P", "product: P\ncolour: blue")) == [
        "app.yaml: colour: unknown field"
    ]
    dup = problems(MINIMAL.replace("product: P", "product: P\nproduct: Q"))
    assert dup[0].startswith("app.yaml: line 3: not valid YAML: duplicate key 'product'")


def test_yaml_read_by_libyaml_says_what_pyyaml_would() -> None:
    """libyaml reads the file; one it refuses is read again for PyYAML's fuller message."""
    shipped = (ROOT / "app.yaml").read_text()
    assert parse_yaml(shipped, "app.yaml") == yaml.load(shipped, Loader=_UniqueKeyLoader)
    assert problems(MINIMAL.replace("product: P", "product: P\n\tcolour: blue")) == [
        "app.yaml: line 3: not valid YAML: found character '\\t' that cannot start any token"
    ]
    assert problems(MINIMAL.replace("product: P", "product: *p")) == [
        "app.yaml: line 2: not valid YAML: found undefined alias 'p'"
    ]


def test_missing_file_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_app_config("/nonexistent/app.yaml", env={})
    assert caught.value.problems[0].startswith("/nonexistent/app.yaml: (file): cannot read")


def test_bad_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_environment({"PORT": "eighty"})
    assert caught.value.problems[0].startswith("environment: PORT:")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30), ("10m", 600), ("1h", 3600), ("7d", 604800), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("bad", ["", "10", "ten minutes", "5 minutes", "-1s", "0s", 10])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(bad)


def test_version_changes_with_the_checklist() -> None:
    one = parse(MINIMAL)
    two = parse(MINIMAL.replace("title: Cluster", "title: Cluster ok"))
    assert one.version != two.version
    assert one.version == parse(MINIMAL).version


WHOLE_FILE = """
    product: P
    roles:
      eng: {title: Eng, members: [U1]}
      cto: {title: CTO, members: [U9]}
    sections:
      - id: infra
        title: Infra
        items:
          - {id: a, title: A, check: {type: http, url: "http://x", timeout: fast}}
          - {id: a, title: A again, owner: nobody}
          - {id: b, title: B, check: {type: http, url: "ftp://x"}}
"""


def test_a_file_that_fails_validation_is_still_checked_as_a_whole() -> None:
    found = problems(WHOLE_FILE)
    assert [p.split(": ", 2)[1] for p in found] == [
        "sections.0.items.0.check.timeout",  # the shape: the check's own field
        "roles",  # the whole file, though the shape failed
        "sections.0.items.0.id",
        "sections.0.items.1.id",
        "sections.0.items.1.owner",
        "sections.0.items.2.check.url",
    ]
    assert found[0].startswith("app.yaml: sections.0.items.0.check.timeout: bad duration 'fast'")
    assert found[1:5] == [
        "app.yaml: roles: no role has `final: true` (the final approver)",
        "app.yaml: sections.0.items.0.id: duplicate item id 'a'",
        "app.yaml: sections.0.items.1.id: duplicate item id 'a'",
        "app.yaml: sections.0.items.1.owner: no role 'nobody' (roles: eng, cto)",
    ]
    assert found[5].startswith("app.yaml: sections.0.items.2.check.url: String should match")


@pytest.mark.parametrize(
    ("role", "field", "not_said"),
    [
        # An invalid field is reported for itself, and nothing is concluded from it.
        ("{title: CTO, members: [U9], final: maybe}", "roles.cto.final", "no role has `final"),
        ("{title: CTO, members: 5, final: true}", "roles.cto.members", "missing member list"),
        ("{title: CTO, members: [U9], min_signers: two, final: true}", "roles.cto.min_signers", ""),
        ("{title: '', members: [U9], final: true}", "roles.cto.title", "no role has `final"),
    ],
)
def test_a_field_invalid_on_its_own_is_reported_once(role: str, field: str, not_said: str) -> None:
    text = MINIMAL.replace('{title: CTO, members: "U9, U8", final: true}', role)
    assert text != MINIMAL
    found = problems(text + "      - {id: cluster, title: Twice}\n")
    fields = [p.split(": ", 2)[1] for p in found]
    assert fields == [field, "sections.0.items.1.id", "sections.0.items.2.id"]
    assert not_said == "" or not_said not in "\n".join(found)
