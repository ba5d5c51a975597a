"""A directory of products: ids from file names, `extends` with merges by id, channels that
route to one product, bot-wide settings kept out of products, every problem named by file."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_products, load_settings
from bot.domain.products import product_id_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "products"

BASE = """
roles:
  lead: {title: Lead, members: [U1]}
  boss: {title: Boss, members: [U2], final: true}
sections:
  - id: one
    title: One
    items: [{id: a, title: A}]
  - id: two
    title: Two
    items: [{id: b, title: B, owner: lead}]
"""


def directory(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "products"
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / f"{name}.yaml").write_text(text)
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        load_products(root, {})
    return refused.value.problems


def test_each_file_is_a_product_named_by_it_and_underscores_are_not(tmp_path: Path) -> None:
    root = directory(
        tmp_path,
        _base=BASE,
        _settings="checks: {concurrency: 7}\nschedules: {tick: 5s}\n",
        lumines="extends: _base.yaml\nproduct: LUMINES\nchannel: C1\n",
        payments="extends: _base.yaml\nproduct: Payments\nchannels: [C2, C3]\n",
    )
    catalog = load_products(root, {})
    assert catalog.ids == ["lumines", "payments"] and catalog.directory
    assert catalog.bot.checks.concurrency == 7 and catalog.bot.tick == timedelta(seconds=5)
    assert catalog.of_channel("C3") == "payments" and catalog.of_channel("C1") == "lumines"
    assert catalog.of_channel("C9") is None and catalog.only is None
    assert catalog.sources["payments"] == str(root / "payments.yaml")
    assert [s.id for s in catalog.products["payments"].sections] == ["one", "two"]


def test_sections_and_roles_merge_by_id_and_remove_drops_one(tmp_path: Path) -> None:
    root = directory(
        tmp_path,
        _base=BASE,
        payments="""
extends: _base.yaml
product: Payments
roles:
  lead: {title: Payments Lead, members: [U9]}
  auditor: {title: Auditor, members: [U8]}
sections:
  - {id: one, remove: true}
  - id: two
    title: Two, smaller
    items: [{id: c, title: C}]
  - id: three
    title: Three
    items: [{id: d, title: D}]
""",
    )
    app = load_products(root, {}).products["payments"]
    assert [(s.id, s.title) for s in app.sections] == [("two", "Two, smaller"), ("three", "Three")]
    assert app.roles["lead"].members == ["U9"] and app.roles["boss"].final
    assert list(app.roles) == ["lead", "boss", "auditor"]
    dropped = directory(
        tmp_path / "x",
        _base=BASE,
        p="extends: _base.yaml\nproduct: P\nroles: {lead: {remove: true}}\n",
    )
    said = problems(dropped)
    assert said == [  # once, at the removal, naming the items by id
        f"{dropped / 'p.yaml'}: roles.lead: removed, but these items still name it as their "
        "owner: b (give them another owner, or replace their sections)"
    ]


def test_extends_chains_and_a_cycle_names_the_files(tmp_path: Path) -> None:
    root = directory(
        tmp_path,
        _base=BASE,
        _middle="extends: _base.yaml\nproduct: Middle\n",
        a="extends: _middle.yaml\n",
    )
    assert load_products(root, {}).products["a"].product == "Middle"
    cyclic = directory(tmp_path / "c", _loop="extends: p.yaml\n", p="extends: _loop.yaml\n")
    (said,) = problems(cyclic)  # said where the loop closes
    assert said == (
        f"{cyclic / '_loop.yaml'}: extends: a cycle: {cyclic / 'p.yaml'} -> "
        f"{cyclic / '_loop.yaml'} -> {cyclic / 'p.yaml'}"
    )
    inner = directory(
        tmp_path / "i",
        _base="extends: _more.yaml\n",
        _more="extends: _base.yaml\n",
        a="extends: _base.yaml\n",
        b="extends: _base.yaml\n",
    )
    (said,) = problems(inner)  # once, not blamed on the products that merely extend it
    assert said.startswith(f"{inner / '_more.yaml'}: extends: a cycle: {inner / '_base.yaml'}")
    missing = directory(tmp_path / "m", p="extends: _nope.yaml\nproduct: P\n")
    assert problems(missing) == [
        f"{missing / 'p.yaml'}: extends: there is no file {str(missing / '_nope.yaml')!r}"
    ]


def test_one_channel_one_product_and_bot_settings_stay_out_of_products(tmp_path: Path) -> None:
    root = directory(
        tmp_path,
        _base=BASE,
        a="extends: _base.yaml\nproduct: A\nchannel: C1\n",
        b=(
            "extends: _base.yaml\nproduct: B\nchannels: [C1]\nchecks: {concurrency: 3}\n"
            "slack: {post_interval: 1s}\nschedules: {tick: 1s, window_lead: 1h}\n"
        ),
        _settings="roles: {}\n",
    )
    said = problems(root)
    settings_home = "a bot-wide setting: it belongs in _settings.yaml, not in a product's file"
    assert said == [
        f"{root / '_settings.yaml'}: roles: unknown field",
        f"{root / 'b.yaml'}: checks.concurrency: {settings_home}",
        f"{root / 'b.yaml'}: slack.post_interval: {settings_home}",
        f"{root / 'b.yaml'}: schedules.tick: {settings_home}",
        f"{root / 'b.yaml'}: channels: C1 is also the channel of {root / 'a.yaml'}; "
        "a channel belongs to one product",
    ]


def test_a_directory_needs_products_with_usable_ids(tmp_path: Path) -> None:
    empty = directory(tmp_path, _base=BASE)
    assert problems(empty) == [
        f"{empty}: (directory): no product files: each product is a NAME.yaml "
        "(files starting with _ are not products)"
    ]
    odd = directory(
        tmp_path / "o", **{"Big Product": "extends: _base.yaml\nproduct: X\n"}, _base=BASE
    )
    (said,) = problems(odd)
    assert said.startswith(f"{odd / 'Big Product.yaml'}: (file name): 'Big Product' is not a")


def test_a_single_file_is_one_product_named_by_its_title() -> None:
    catalog = load_products(ROOT / "app.yaml", {})
    assert catalog.ids == ["lumines_wis2l"] and not catalog.directory
    assert catalog.only == "lumines_wis2l" and catalog.bot.checks.concurrency == 20
    assert product_id_of("Payments API (EU)") == "payments_api_eu"


def test_the_examples_validate_and_the_cli_reports_each_product() -> None:
    catalog = load_products(EXAMPLES, {})
    assert catalog.ids == ["lumines", "payments"]
    assert catalog.products["lumines"].version == load_settings(ROOT / "app.yaml", {}).app.version
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "validate", str(EXAMPLES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{EXAMPLES / 'lumines.yaml'}: OK: LUMINES/WIS2L (lumines) in ")
    assert lines[1].startswith(f"{EXAMPLES / 'payments.yaml'}: OK: Payments (payments) in ")


def test_the_cli_says_every_problem_of_a_directory_and_exits_2(tmp_path: Path) -> None:
    base = yaml.safe_load(BASE)
    base["sections"][0]["items"][0]["check"] = {"type": "http", "url": 5}
    root = directory(
        tmp_path,
        _base=yaml.safe_dump(base),
        a="extends: _base.yaml\nproduct: A\nslack: {post_interval: 1s}\n",
        b="extends: _base.yaml\nproduct: B\nroles: {boss: {title: Boss, members: [U2]}}\n",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "validate", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    said = done.stderr
    assert f"{root / 'a.yaml'}: slack.post_interval: a bot-wide setting" in said
    assert f"{root / 'b.yaml'}: roles: no role has `final: true`" in said
    # A problem in the base file is said once, in the base file, naming the products it breaks.
    assert said.count(f"{root / '_base.yaml'}: sections.0.items.0.check.url:") == 1
    assert f"(in {root / 'a.yaml'} and {root / 'b.yaml'}, which extend it)" in said


def test_an_unset_variable_is_said_once_where_it_is_written(tmp_path: Path) -> None:
    base = BASE.replace(
        "items: [{id: a, title: A}]",
        """items:
      - {id: a, title: A, check: {type: http, url: "${TARGET}/health"}}""",
    )
    root = directory(
        tmp_path,
        _base=base,
        a="extends: _base.yaml\nproduct: A\nchannel: ${A_CHANNEL}\n",
        b="extends: _base.yaml\nproduct: B\n",
    )
    assert sorted(problems(root)) == [  # nothing else follows from them
        f"{root / '_base.yaml'}: sections.0.items.0.check.url: ${{TARGET}} is not set in the "
        f"environment (in {root / 'a.yaml'} and {root / 'b.yaml'}, which extend it)",
        f"{root / 'a.yaml'}: channel: ${{A_CHANNEL}} is not set in the environment",
    ]
