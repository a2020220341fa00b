"""Privacy and control: hard requirements per sensitivity level, and weighted criteria per option.

Pure functions of the scenario and the provider-terms catalogue. A requirement an option breaks
for a class makes it non-compliant for that class (hybrids route such classes in-house); the
criteria score every option 0-100 with a reason, so that what an option gives up is stated next
to what it costs.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator import catalog, i18n
from simulator.catalog import ApiTerms
from simulator.i18n import N_, _, ngettext
from simulator.scenario import (
    ApiOption,
    HybridOption,
    Requirement,
    Scenario,
    SelfHostOption,
    Sensitivity,
    api_terms,
    site_of,
)

# How much each sensitivity level counts when data-handling scores of a hybrid's paths are blended:
# keeping regulated data in-house matters more than where public FAQ traffic goes.
SENSITIVITY_WEIGHT: dict[Sensitivity, float] = {"public": 0.0, "internal": 1.0, "confidential": 2.0, "regulated": 4.0}
DATA_CRITERIA = ("data_boundary", "retention", "training_use", "residency", "certifications")
# Who runs each site, as provider_terms.yaml says it (`sites.*.operated_by`), for the message catalogue.
OPERATED_BY = (
    N_("the company, in its own data centre"),
    N_("the company's own servers in a rented cage; the host has physical access only"),
    N_("a cloud GPU provider, whose staff and hypervisor can reach the machine"),
)


@dataclass(frozen=True)
class CriterionScore:
    criterion: str
    score: float
    """0 (gives up everything) to 100 (keeps full control)."""
    reason: str


# --- hard requirements ------------------------------------------------------------------------


def _api_region(option: ApiOption, terms: ApiTerms | None) -> str | None:
    if option.region is not None:
        return option.region
    regions = terms.regions.value if terms else None
    return regions[0] if isinstance(regions, list) and len(regions) == 1 else None


def api_violations(option: ApiOption, requirement: Requirement) -> list[str]:
    """What sending a class with `requirement` to this API breaks; empty when compliant."""
    terms = api_terms(option)
    who = terms.display_name if terms else _("{provider} (no terms in the catalogue)").format(provider=option.provider)

    def given(fact: str) -> bool:
        return terms is not None and getattr(terms, fact).value is True

    out = []
    if requirement.stays_in_boundary:
        out.append(_("data leaves the boundary to {who}").format(who=who))
    if requirement.zero_retention and not option.zero_retention:
        days = terms.retention_days.value if terms else None
        out.append(
            ngettext(
                "{who} keeps API data up to {days} day "
                "(zero retention required; set zero_retention where it is offered)",
                "{who} keeps API data up to {days} days "
                "(zero retention required; set zero_retention where it is offered)",
                days,
            ).format(who=who, days=i18n.number(days))
            if isinstance(days, int) and days
            else _(
                "{who} publishes no zero-retention terms used here "
                "(zero retention required; set zero_retention where it is offered)"
            ).format(who=who)
        )
    if requirement.no_training_use and (terms is None or terms.trains_on_api_data_by_default.value is not False):
        out.append(_("{who} may train on API data or does not say it will not").format(who=who))
    if requirement.regions is not None:
        region = _api_region(option, terms)
        if region not in requirement.regions:
            required = ", ".join(requirement.regions)
            out.append(
                _("{who} processes in {region}; required {required}").format(
                    who=who, region=repr(region), required=required
                )
                if region
                else _("{who} processes in a region not pinned (set region); required {required}").format(
                    who=who, required=required
                )
            )
    if requirement.hipaa_baa and not given("hipaa_baa"):
        out.append(_("{who} offers no HIPAA BAA").format(who=who))
    if requirement.gdpr_dpa and not given("gdpr_dpa"):
        out.append(_("{who} offers no GDPR DPA").format(who=who))
    out += [
        _("{who} has no published {certification}").format(who=who, certification=c)
        for c in requirement.certifications
        if not given(c)
    ]
    return out


def self_host_violations(option: SelfHostOption, requirement: Requirement) -> list[str]:
    """What serving a class with `requirement` on this fleet breaks; empty when compliant."""
    site = site_of(option)
    out = []
    if requirement.stays_in_boundary and catalog.terms().sites[site].leaves_boundary:
        out.append(
            _("{site} GPUs are operated outside the boundary ({operated_by})").format(
                site=site, operated_by=_(catalog.terms().sites[site].operated_by)
            )
        )
    if requirement.regions is not None and option.region not in requirement.regions:
        required = ", ".join(requirement.regions)
        out.append(
            _("GPUs are in {region}; required {required}").format(region=repr(option.region), required=required)
            if option.region
            else _("GPUs are in a region not stated (set region); required {required}").format(required=required)
        )
    if requirement.hipaa_baa and site == "cloud_gpu" and not option.provider_baa:
        out.append(_("the cloud GPU provider has no BAA on record (set provider_baa)"))
    return out


def class_violations(scenario: Scenario, option: ApiOption | SelfHostOption, cls: str) -> list[str]:
    c = next(x for x in scenario.workload.classes if x.name == cls)
    requirement = scenario.privacy.requirement(c.sensitivity)
    if isinstance(option, ApiOption):
        return api_violations(option, requirement)
    return self_host_violations(option, requirement)


# --- criteria ---------------------------------------------------------------------------------


def _api_control_scores(option: ApiOption, model_control: CriterionScore) -> list[CriterionScore]:
    """Control criteria of any hosted API: the model, its weights and your prompts are the provider's."""
    return [
        model_control,
        CriterionScore("reproducibility", 30.0, _("hosted model; a dated snapshot at best, weights not available")),
        CriterionScore(
            "customisation",
            60.0 if option.fine_tuning else 20.0,
            _("provider fine-tuning only") if option.fine_tuning else _("prompting only"),
        ),
        CriterionScore("lock_in", 30.0, _("provider-specific API, model behaviour and prompt tuning")),
        CriterionScore("operational_burden", 100.0, _("nothing to operate")),
    ]


def _api_scores(option: ApiOption) -> list[CriterionScore]:
    t = api_terms(option)
    if t is None:
        unknown_terms = [
            CriterionScore(c, 0.0, _("no terms known for {provider}").format(provider=option.provider))
            for c in DATA_CRITERIA
        ]
        return [*unknown_terms, *_api_control_scores(option, CriterionScore("model_control", 0.0, _("no terms known")))]
    days = t.retention_days.value
    if option.zero_retention:
        retention = CriterionScore("retention", 90.0, _("zero data retention agreement"))
    elif days == 0:
        retention = CriterionScore(
            "retention", 100.0, _("{who} keeps no prompts or completions").format(who=t.display_name)
        )
    elif isinstance(days, int):
        retention = CriterionScore(
            "retention",
            50.0 if days <= 30 else 30.0,
            ngettext("kept up to {days} day", "kept up to {days} days", days).format(days=i18n.number(days)),
        )
    else:
        retention = CriterionScore("retention", 20.0, _("retention not published or not verified"))
    trains = t.trains_on_api_data_by_default.value
    training = (
        CriterionScore("training_use", 90.0, _("not used for training by default"))
        if trains is False
        else CriterionScore("training_use", 0.0, _("may be used for training"))
        if trains is True
        else CriterionScore("training_use", 30.0, _("training use not published or not verified"))
    )
    region = _api_region(option, t)
    if region is not None and t.residency_options.value:
        residency = CriterionScore("residency", 80.0, _("processing pinned to {region}").format(region=region))
    elif t.residency_options.value:
        residency = CriterionScore("residency", 60.0, _("regional processing available, not pinned (set region)"))
    else:
        residency = CriterionScore(
            "residency", 20.0, _("no residency choice (regions: {regions})").format(regions=t.regions.value)
        )
    held = [name for name in ("soc2", "iso27001", "hipaa_baa", "gdpr_dpa") if getattr(t, name).value is True]
    notice = t.deprecation_notice_days.value
    control = (
        CriterionScore(
            "model_control",
            min(80.0, 20.0 + 60.0 * notice / 365),
            ngettext(
                "provider can retire the model with {days} day notice",
                "provider can retire the model with {days} days notice",
                notice,
            ).format(days=i18n.number(notice)),
        )
        if isinstance(notice, int)
        else CriterionScore(
            "model_control",
            20.0,
            _("deprecation notice not published or not verified; the provider can change the model"),
        )
    )
    return [
        CriterionScore("data_boundary", 20.0, _("prompts and outputs go to {who}").format(who=t.display_name)),
        retention,
        training,
        residency,
        CriterionScore("certifications", 25.0 * len(held), ", ".join(held) or _("none published")),
        *_api_control_scores(option, control),
    ]


def _self_host_scores(option: SelfHostOption) -> list[CriterionScore]:
    site = site_of(option)
    model = catalog.model(option.model)
    in_boundary = not catalog.terms().sites[site].leaves_boundary
    burden = {
        "cloud_gpu": (60.0, _("you run the serving stack; the cloud runs the hardware")),
        "colocation": (30.0, _("you run servers and the serving stack; the host runs the building")),
        "own_premises": (20.0, _("you run the building, servers and serving stack")),
    }[site]
    return [
        CriterionScore("data_boundary", 100.0 if in_boundary else 50.0, _(catalog.terms().sites[site].operated_by)),
        CriterionScore("retention", 100.0, _("you decide what is logged and for how long")),
        CriterionScore("training_use", 100.0, _("no third party sees the data to train on")),
        CriterionScore(
            "residency",
            100.0 if option.region else 70.0,
            _("GPUs in {region}").format(region=option.region)
            if option.region
            else _("you choose the region (not stated)"),
        ),
        CriterionScore("certifications", 60.0, _("your own controls and audits")),
        CriterionScore("model_control", 100.0, _("nobody can change or retire the model under you")),
        CriterionScore("reproducibility", 100.0, _("pinned weights and serving configuration")),
        CriterionScore("customisation", 100.0, _("fine-tune freely under the {licence}").format(licence=model.licence)),
        CriterionScore("lock_in", 90.0, _("open weights run on any GPU provider or your own")),
        CriterionScore("operational_burden", *burden),
    ]


def scores(
    scenario: Scenario,
    option: ApiOption | SelfHostOption | HybridOption,
    class_tokens_by_path: dict[str, dict[str, float]] | None = None,
) -> list[CriterionScore]:
    """Criterion scores; a hybrid blends its parts by the tokens each path served.

    Data-handling criteria weight each class's tokens by its sensitivity; control criteria by plain
    token share; operating burden is the in-house part's (you run it either way).
    """
    if isinstance(option, ApiOption):
        return _api_scores(option)
    if isinstance(option, SelfHostOption):
        return _self_host_scores(option)
    api = scenario.option(option.api)
    own = scenario.option(option.self_host)
    assert isinstance(api, ApiOption) and isinstance(own, SelfHostOption)
    levels = {c.name: c.sensitivity for c in scenario.workload.classes}
    paths = class_tokens_by_path or {}
    plain = {p: sum(t.values()) for p, t in paths.items()}
    sensitive = {p: sum(v * SENSITIVITY_WEIGHT[levels[c]] for c, v in t.items()) for p, t in paths.items()}
    out = []
    for a, o in zip(_api_scores(api), _self_host_scores(own), strict=True):
        if a.criterion == "operational_burden":
            out.append(o)
            continue
        w = sensitive if a.criterion in DATA_CRITERIA else plain
        total = w.get("api", 0.0) + w.get("in_house", 0.0)
        share = w.get("in_house", 0.0) / total if total else 1.0
        score = share * o.score + (1 - share) * a.score
        reason = _("{in_house} in-house ({in_house_reason}); {api} via API ({api_reason})").format(
            in_house=i18n.percent(share), in_house_reason=o.reason, api=i18n.percent(1 - share), api_reason=a.reason
        )
        out.append(CriterionScore(a.criterion, score, reason))
    return out


def weighted_total(criteria: list[CriterionScore], weights: dict[str, float]) -> float:
    """Weighted mean score, 0-100."""
    total_weight = sum(weights[c.criterion] for c in criteria)
    return sum(weights[c.criterion] * c.score for c in criteria) / total_weight
