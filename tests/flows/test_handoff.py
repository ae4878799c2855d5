"""A command hands its flow the configuration it loaded (flows.runs.handoff); the flow checks that
it was loaded from the files its parameters name, the ones Prefect records and shows."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from flows.context.config import load_run_config
from flows.context.settings import load_settings
from flows.runs.handoff import Handoff, HandoffMismatchError, PlannedReplay
from flows.runs.replayplan import plan_replay_of
from tests.conftest import RULES, SEEDS


@pytest.fixture(scope="module")
def handoff(tmp_path_factory: pytest.TempPathFactory) -> Handoff:
    rules = tmp_path_factory.mktemp("handoff") / "rules"
    shutil.copytree(RULES, rules)
    return Handoff(load_run_config(load_settings(rules_dir=rules)))


def test_the_handed_config_serves_the_parameters_it_was_loaded_from(handoff: Handoff) -> None:
    rules = handoff.config.settings.rules_dir
    assert handoff.config_for(rules_dir=str(rules), apprise_config=None) is handoff.config
    assert handoff.config_for(rules_dir=None) is handoff.config, "None: the settings chose"


def test_parameters_naming_other_files_than_the_handed_config_are_refused(
    handoff: Handoff,
) -> None:
    with pytest.raises(HandoffMismatchError, match=r"rules_dir=/elsewhere/rules.*loaded from"):
        handoff.config_for(rules_dir="/elsewhere/rules")
    with pytest.raises(HandoffMismatchError, match=r"apprise_config=subs\.yaml.*from None"):
        handoff.config_for(apprise_config="subs.yaml")


def test_a_handed_replay_plan_serves_only_the_paths_it_was_made_for(handoff: Handoff) -> None:
    given = [str(SEEDS)]
    source, plan = plan_replay_of(given, SEEDS)
    planned = replace(handoff, replay=PlannedReplay(given, source, plan))
    assert planned.replay_plan_for(given) == (source, plan)
    assert planned.replay_plan_for([]) is None, "[]: the seeds folder by default, planned apart"
    assert planned.replay_plan_for([str(SEEDS), str(SEEDS)]) is None
    assert handoff.replay_plan_for(given) is None, "nothing planned: the flow plans"
