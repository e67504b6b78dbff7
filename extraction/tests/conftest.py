"""Fixtures of the extraction tests, beside the root conftest's cast (alice owner, bob editor, carol reviewer,
dave outsider): erin, a second reviewer, and `seed`, the ketamine review's three studies with their arms, its
outcomes and its comparison (nothing extracted yet)."""

from dataclasses import dataclass
from typing import Any

import pytest

from extraction.models import Study
from extraction.services import studies as study_services
from extraction.services.forms import current_form
from reviews.models import Membership
from reviews.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def erin(cast):
    """A second reviewer of the cast's review, reachable as api("erin") and web("erin")."""
    user = UserFactory(username="erin")
    MembershipFactory(review=cast.review, user=user, role=Membership.Role.REVIEWER)
    cast.erin = user
    return user


@dataclass
class Seed:
    review: Any
    form: Any
    yang: Any  # intrathecal crossover, n=20
    mercadante: Any  # intravenous bolus crossover, n=10, two doses vs placebo
    hardy: Any  # parallel subcutaneous, n=185
    comparison: Any
    pain: Any  # continuous
    adverse: Any  # dichotomous
    pain_giv: Any  # generic inverse variance (crossover paired effects)

    def arm(self, study: Study, name: str) -> Any:
        return study.arms.get(name=name)


@pytest.fixture
def seed(cast, erin) -> Seed:
    review, bob = cast.review, cast.bob
    rid = review.pk
    yang = study_services.study_create(user=bob, review_id=rid, label="Yang 1996", design=Study.Design.CROSSOVER)
    for name, intervention, dose in (("Ketamine", "Ketamine + morphine", "1 mg/day"), ("Control", "Morphine", "")):
        study_services.arm_create(
            user=bob, review_id=rid, study_id=yang.pk, name=name, intervention=intervention, dose=dose,
            route="Intrathecal", randomised=20, completed=20,
        )  # fmt: skip
    mercadante = study_services.study_create(
        user=bob, review_id=rid, label="Mercadante 2000", design=Study.Design.CROSSOVER
    )
    for name, dose in (("Ketamine 0.25", "0.25 mg/kg"), ("Ketamine 0.5", "0.5 mg/kg"), ("Placebo", "")):
        study_services.arm_create(
            user=bob, review_id=rid, study_id=mercadante.pk, name=name, intervention="Ketamine" if dose else "Saline",
            dose=dose, route="Intravenous", randomised=10, completed=10,
        )  # fmt: skip
    hardy = study_services.study_create(user=bob, review_id=rid, label="Hardy 2012", design=Study.Design.PARALLEL)
    for name, randomised, completed in (("Ketamine", 93, 75), ("Placebo", 92, 74)):
        study_services.arm_create(
            user=bob, review_id=rid, study_id=hardy.pk, name=name, intervention=name, route="Subcutaneous",
            randomised=randomised, completed=completed,
        )  # fmt: skip
    comparison = study_services.comparison_create(
        user=bob, review_id=rid, name="Ketamine versus placebo", intervention="Ketamine + opioid", control="Opioid"
    )
    pain = study_services.outcome_create(
        user=bob, review_id=rid, name="Pain intensity", type="continuous", direction="lower_is_better",
        unit="VAS 0-10", timepoint="End of treatment",
    )  # fmt: skip
    adverse = study_services.outcome_create(
        user=bob, review_id=rid, name="Hallucinations", type="dichotomous", direction="lower_is_better"
    )
    pain_giv = study_services.outcome_create(
        user=bob, review_id=rid, name="Pain intensity (paired)", type="giv", direction="lower_is_better"
    )
    return Seed(review, current_form(review), yang, mercadante, hardy, comparison, pain, adverse, pain_giv)
