"""Privacy and control: each requirement rule, each criterion's score, weights, routing, cost of privacy."""

from __future__ import annotations

from typing import get_args

import pytest
import yaml

from simulator import catalog, i18n
from simulator.analysis.run import run, run_with_ledger
from simulator.cli import main
from simulator.privacy import OPERATED_BY, api_violations, scores, self_host_violations, weighted_total
from simulator.scenario import ApiOption, Criterion, Requirement, SelfHostOption, load_scenario

from helpers import BASE, ROOT, SENSITIVE_CLASSES, make

CRITERIA = get_args(Criterion)


def api(**fields) -> ApiOption:
    return ApiOption.model_validate({"name": "a", "kind": "api", "provider": "openai", "model": "gpt-4o", **fields})


def own(**fields) -> SelfHostOption:
    return SelfHostOption.model_validate(
        {
            "name": "s",
            "kind": "self_host",
            "model": "llama-3.1-8b-instruct",
            "gpu": "h100-sxm",
            "procurement": "buy",
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("option", "requirement", "broken"),
    [
        (api(), Requirement(stays_in_boundary=True), "leaves the boundary"),
        (api(zero_retention=True), Requirement(zero_retention=True), None),
        (api(), Requirement(zero_retention=True), "keeps API data up to 30 days"),
        (api(provider="deepseek", model="deepseek-chat"), Requirement(no_training_use=True), "may train"),
        (api(provider="x-ai", model="grok-3"), Requirement(no_training_use=True), "does not say"),
        (api(), Requirement(no_training_use=True), None),
        (api(region="eu"), Requirement(regions=["eu"]), None),
        (api(), Requirement(regions=["eu"]), "region not pinned"),
        (api(provider="anthropic", model="claude-sonnet-4-5"), Requirement(regions=["eu"]), "processes in 'us'"),
        (api(provider="google", model="gemini-2.5-flash"), Requirement(hipaa_baa=True), "no HIPAA BAA"),
        (api(provider="aws", model="eu.anthropic.claude-sonnet-4-5-20250929-v1:0"), Requirement(hipaa_baa=True), None),
        (api(provider="deepseek", model="deepseek-chat"), Requirement(gdpr_dpa=True), "no GDPR DPA"),
        (api(provider="deepseek", model="deepseek-chat"), Requirement(certifications=["soc2"]), "no published soc2"),
        (api(provider="anthropic", model="claude-sonnet-4-5"), Requirement(certifications=["soc2", "iso27001"]), None),
        (
            api(terms="google-vertex", provider="google", model="gemini-2.5-flash", region="eu"),
            Requirement(regions=["eu"], hipaa_baa=True),
            None,
        ),
    ],
)
def test_api_requirement_rules(option: ApiOption, requirement: Requirement, broken: str | None) -> None:
    found = api_violations(option, requirement)
    if broken is None:
        assert found == []
    else:
        assert len(found) == 1 and broken in found[0], found


@pytest.mark.parametrize(
    ("option", "requirement", "broken"),
    [
        (own(site="own_premises"), Requirement(stays_in_boundary=True), None),
        (own(), Requirement(stays_in_boundary=True), None),  # bought GPUs default to colocation
        (own(procurement="rent"), Requirement(stays_in_boundary=True), "cloud_gpu GPUs are operated outside"),
        (own(procurement="rent"), Requirement(zero_retention=True, no_training_use=True), None),
        (own(region="eu"), Requirement(regions=["eu"]), None),
        (own(), Requirement(regions=["eu"]), "region not stated"),
        (own(region="us"), Requirement(regions=["eu"]), "GPUs are in 'us'"),
        (own(procurement="rent"), Requirement(hipaa_baa=True), "no BAA on record"),
        (own(procurement="rent", provider_baa=True), Requirement(hipaa_baa=True), None),
        (own(site="own_premises"), Requirement(hipaa_baa=True, gdpr_dpa=True, certifications=["soc2"]), None),
    ],
)
def test_self_host_requirement_rules(option: SelfHostOption, requirement: Requirement, broken: str | None) -> None:
    found = self_host_violations(option, requirement)
    if broken is None:
        assert found == []
    else:
        assert len(found) == 1 and broken in found[0], found


def by_criterion(option) -> dict[str, float]:
    return {c.criterion: c.score for c in scores(make(), option)}


def test_api_criterion_scores() -> None:
    openai = by_criterion(api())
    assert openai == {
        "data_boundary": 20,
        "retention": 50,
        "training_use": 90,
        "residency": 60,
        "certifications": 75,
        "model_control": 20,
        "reproducibility": 30,
        "customisation": 20,
        "lock_in": 30,
        "operational_burden": 100,
    }
    bedrock = by_criterion(api(provider="aws", model="eu.anthropic.claude-sonnet-4-5-20250929-v1:0", region="eu"))
    assert bedrock["retention"] == 100 and bedrock["residency"] == 80 and bedrock["certifications"] == 100
    assert bedrock["model_control"] == pytest.approx(20 + 60 * 180 / 365)
    deepseek = by_criterion(api(provider="deepseek", model="deepseek-chat"))
    assert deepseek["training_use"] == 0 and deepseek["retention"] == 20 and deepseek["certifications"] == 0
    assert by_criterion(api(zero_retention=True))["retention"] == 90
    tuned = api(fine_tuning={"training_usd_per_mtok": 25, "training_mtok_per_run": 1, "runs_per_year": 1})
    assert by_criterion(tuned)["customisation"] == 60


def test_self_host_criterion_scores() -> None:
    premises = by_criterion(own(site="own_premises", region="eu"))
    assert premises == {
        "data_boundary": 100,
        "retention": 100,
        "training_use": 100,
        "residency": 100,
        "certifications": 60,
        "model_control": 100,
        "reproducibility": 100,
        "customisation": 100,
        "lock_in": 90,
        "operational_burden": 20,
    }
    cloud = by_criterion(own(procurement="rent"))
    assert cloud["data_boundary"] == 50 and cloud["residency"] == 70 and cloud["operational_burden"] == 60
    assert by_criterion(own())["operational_burden"] == 30


def test_weights_move_the_ranking_the_expected_way() -> None:
    a, s = scores(make(), api()), scores(make(), own(site="own_premises"))
    ops_first = dict.fromkeys((c.criterion for c in a), 0.0) | {"operational_burden": 10.0, "data_boundary": 1.0}
    data_first = dict.fromkeys((c.criterion for c in a), 0.0) | {"operational_burden": 1.0, "data_boundary": 10.0}
    assert weighted_total(a, ops_first) > weighted_total(s, ops_first)
    assert weighted_total(a, data_first) < weighted_total(s, data_first)


def test_scenario_weights_reach_the_result() -> None:
    options = [
        {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"},
        {
            "name": "own",
            "kind": "self_host",
            "model": "llama-3.1-8b-instruct",
            "gpu": "h100-sxm",
            "procurement": "buy",
            "site": "own_premises",
        },
    ]
    zero = dict.fromkeys(CRITERIA, 0)
    ops = run(make(options=options, privacy={"weights": {**zero, "operational_burden": 1}})).options
    assert [o.privacy_score for o in ops] == [100, 20]
    boundary = run(
        make(
            options=options,
            privacy={
                "weights": {"data_boundary": 1, "operational_burden": 0, **{k: 0 for k in zero if k != "data_boundary"}}
            },
        )
    )
    assert [o.privacy_score for o in boundary.options] == [20, 100]


OPTIONS = [
    {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"},
    {
        "name": "own",
        "kind": "self_host",
        "model": "llama-3.1-8b-instruct",
        "gpu": "h100-sxm",
        "procurement": "buy",
        "gpus_per_replica": 1,
    },
    {
        "name": "cloud",
        "kind": "self_host",
        "model": "llama-3.1-8b-instruct",
        "gpu": "h100-sxm",
        "procurement": "rent",
        "gpus_per_replica": 1,
    },
    # No pinned levels: the regulated class must be routed in-house by its requirement alone.
    {
        "name": "mix",
        "kind": "hybrid",
        "self_host": "own",
        "api": "api",
        "baseline_quantile": 0,
        "in_house_sensitivity": [],
    },
]


def test_hybrid_routes_regulated_traffic_in_house() -> None:
    result = run(make(workload={"classes": SENSITIVE_CLASSES}, options=OPTIONS))
    by = {o.name: o for o in result.options}
    records_tokens = 5000 * 2300 * 365.25
    assert by["mix"].sensitive_tokens_leaving_boundary["regulated"] == 0
    assert by["mix"].sensitive_tokens_leaving_boundary["public"] == pytest.approx(20000 * 600 * 365.25)
    assert by["mix"].compliant == {"records": True, "faq": True}
    assert by["api"].sensitive_tokens_leaving_boundary["regulated"] == pytest.approx(records_tokens)
    assert by["api"].compliant == {"records": False, "faq": True}
    assert by["cloud"].compliant == {"records": False, "faq": True}  # rented GPUs are outside the boundary
    assert by["cloud"].sensitive_tokens_leaving_boundary["regulated"] == pytest.approx(records_tokens)
    assert by["own"].sensitive_tokens_leaving_boundary == {
        "public": 0,
        "internal": 0,
        "confidential": 0,
        "regulated": 0,
    }


def test_cost_of_privacy_is_the_difference_of_the_two_plans() -> None:
    result = run(make(workload={"classes": SENSITIVE_CLASSES}, options=OPTIONS))
    by = {o.name: o for o in result.options}
    assert result.cheapest_option == "api"
    compliant = [o for o in result.options if all(o.compliant.values())]
    assert result.cheapest_compliant_option == min(compliant, key=lambda o: o.total_cost_usd).name
    cheapest, private = by[result.cheapest_option], by[result.cheapest_compliant_option]
    assert result.cost_of_privacy_usd == pytest.approx(private.total_cost_usd - cheapest.total_cost_usd, rel=1e-12)
    for m, diff in enumerate(result.cost_of_privacy_monthly_usd):
        assert diff == pytest.approx(private.monthly_cost_usd[m] - cheapest.monthly_cost_usd[m], rel=1e-12)


def test_no_cost_of_privacy_when_nothing_is_sensitive() -> None:
    result = run(make())
    assert result.cheapest_compliant_option == result.cheapest_option == "api"
    assert result.cost_of_privacy_usd == 0


@pytest.mark.parametrize(
    ("privacy", "expected"),
    [
        (
            {"weights": {"data_boundary": -1}},
            "privacy.weights.data_boundary: Input should be greater than or equal to 0",
        ),
        ({"weights": {"vibes": 3}}, "privacy.weights.vibes"),
        (
            {"weights": dict.fromkeys(CRITERIA, 0)},
            "privacy: the criteria weights are all zero",
        ),
        ({"requirements": {"secret": {"stays_in_boundary": True}}}, "privacy.requirements.secret"),
    ],
)
def test_bad_privacy_input_is_one_line_exit_2(tmp_path, capsys, privacy: dict, expected: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**BASE, "privacy": privacy}))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({"terms": "gooogle-vertex"}, "options[0].terms: unknown terms 'gooogle-vertex' (did you mean 'google-vertex'"),
        (
            {"provider": "google", "model": "gemini-2.5-flash", "zero_retention": True},
            "options[0].zero_retention: Google Gemini API (paid tier) publishes no zero-retention offer",
        ),
        ({"region": "mars"}, "options[0].region: region 'mars' is not offered (choose one of us, eu)"),
    ],
)
def test_bad_terms_are_one_line_exit_2(tmp_path, capsys, option: dict, expected: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**BASE, "options": [{**BASE["options"][0], **option}]}))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_bundled_regulated_scenario_exercises_privacy() -> None:
    from simulator.scenario import load_scenario

    from helpers import ROOT

    result = run(load_scenario(ROOT / "scenarios" / "regulated-rag.yaml"))
    by = {o.name: o for o in result.options}
    assert result.cheapest_option != result.cheapest_compliant_option
    assert result.cost_of_privacy_usd > 0
    assert by["regulated-in-house"].sensitive_tokens_leaving_boundary["regulated"] == 0
    assert by["regulated-in-house"].sensitive_tokens_leaving_boundary["confidential"] > 0  # EU, zero retention
    assert all(by["regulated-in-house"].compliant.values())
    assert not by["claude-sonnet-4.5"].compliant["staff-policy-qa"]  # US-only processing
    assert not by["llama-70b-eu-cloud"].compliant["clinician-qa"]


def _numbers(value: object) -> object:
    """`value` with every text blanked: what must not move when the language does."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return None if isinstance(value, str) else value


def test_a_japanese_run_gives_the_catalogues_reasons_and_the_same_numbers() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "regulated-rag.yaml")
    english, english_ledger = run_with_ledger(scenario, "fluid")
    with i18n.using("ja"):
        japanese, japanese_ledger = run_with_ledger(scenario, "fluid")
    ja = i18n.translations("ja")

    def cls(name: str, reason: str) -> str:
        return ja.gettext("class {name}: {reason}").format(name=repr(name), reason=reason)

    leaves = ja.gettext("data leaves the boundary to {who}").format(who="Anthropic API")
    kept = ja.ngettext(
        "{who} keeps API data up to {days} day (zero retention required; set zero_retention where it is offered)",
        "{who} keeps API data up to {days} days (zero retention required; set zero_retention where it is offered)",
        30,
    ).format(who="Anthropic API", days="30")
    region = ja.gettext("{who} processes in {region}; required {required}")
    by = {o.name: o for o in japanese.options}
    assert by["claude-sonnet-4.5"].compliance_reasons == [
        cls("clinician-qa", leaves),
        cls("discharge-summary", leaves),
        cls("staff-policy-qa", kept),
        cls("staff-policy-qa", region.format(who="Anthropic API", region="'us'", required="eu")),
    ]
    operator = ja.gettext("a cloud GPU provider, whose staff and hypervisor can reach the machine")
    outside = ja.gettext("{site} GPUs are operated outside the boundary ({operated_by})").format(
        site="cloud_gpu", operated_by=operator
    )
    assert by["llama-70b-eu-cloud"].compliance_reasons == [
        cls("clinician-qa", outside),
        cls("discharge-summary", outside),
    ]
    shortfall = ja.gettext(
        "class {name}: {share} of requests within {ttft} ms TTFT and {tpot} ms TPOT, below the {floor} required"
    )
    assert by["claude-sonnet-4.5"].slo_reasons[0] == shortfall.format(
        name="'clinician-qa'", share="15.6%", ttft="1,000", tpot="80", floor="95%"
    )
    assert "クラス" in by["claude-sonnet-4.5"].compliance_reasons[0] and "社外" in leaves  # the catalogue is Japanese
    items = {a.item for a in japanese.assumptions}
    assert ja.gettext("{gpu} idle power").format(gpu="h100-sxm") in items and "h100-sxm idle power" not in items

    # The language changes words, never a number, a verdict or an identifier.
    assert _numbers(japanese.model_dump()) == _numbers(english.model_dump())
    assert [o.name for o in japanese.options] == [o.name for o in english.options]
    assert (japanese.cheapest_option, japanese.cheapest_compliant_option) == (
        english.cheapest_option,
        english.cheapest_compliant_option,
    )
    assert [r.model_dump() for r in japanese_ledger] == [r.model_dump() for r in english_ledger]
    assert [c.criterion for o in japanese.options for c in o.privacy_criteria] == [
        c.criterion for o in english.options for c in o.privacy_criteria
    ]


def test_every_site_operator_in_the_catalogue_is_marked_for_translation() -> None:
    assert {s.operated_by for s in catalog.terms().sites.values()} == set(OPERATED_BY)
