"""Two reviews holding one of every kind of object, built through the app's services: the cast's review (alice
owner, bob editor, carol and erin reviewers, dave outside it) and dave's review (dave owner, with his own editor
and reviewers). The access matrix, the IDOR and the mass-assignment tests request every URL of the first with the
ids of either."""

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from core.demo.complete import placeholder_pdf
from exports.models import ReviewTransfer
from extraction import models as xm
from extraction.services import extracting as X
from extraction.services import studies as study_services
from extraction.services.forms import current_form, form_new_draft
from grading import models as gm
from grading import services as rob_services
from grading import services_certainty as certainty_services
from reviews import models as rm
from reviews.models import Membership
from reviews.tests.factories import MembershipFactory, ReviewFactory, UserFactory
from screening import models as sm
from screening import services as screening_services
from synthesis import services as synthesis_services
from synthesis.models import Analysis

TA = sm.Stage.TITLE_ABSTRACT


@dataclass
class Seeded:
    """The objects of one review, by the name the URL patterns give their ids."""

    review: Any
    owner: Any
    editor: Any
    reviewer: Any  # carol in the cast's review: the ids of her own decision, extraction and assessment
    reviewer2: Any  # erin: blinded from carol and carol from her
    objects: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> Any:
        return self.objects[kind]


def _people(review: Any, owner: Any, editor: Any, reviewers: tuple[Any, Any]) -> None:
    MembershipFactory(review=review, user=owner, role=Membership.Role.OWNER)
    MembershipFactory(review=review, user=editor, role=Membership.Role.EDITOR)
    for user in reviewers:
        MembershipFactory(review=review, user=user, role=Membership.Role.REVIEWER)


def populate(review: Any, owner: Any, editor: Any, reviewer: Any, reviewer2: Any) -> Seeded:
    rid = review.pk
    s = Seeded(review, owner, editor, reviewer, reviewer2)
    o = s.objects
    o["review"] = review
    o["membership"] = Membership.objects.get(review=review, user=reviewer)
    batch = rm.Import.objects.create(
        review=review, source="MEDLINE (Ovid)", source_kind="database", filename="medline.ris",
        content_hash=f"seed{rid}", status=rm.Import.Status.SUCCEEDED, records_found=6, records_added=6,
        created_by=owner,
    )  # fmt: skip
    o["import"] = batch
    rm.Record.objects.bulk_create(
        rm.Record(
            review=review,
            batch=batch,
            position=i,
            title=f"Ketamine and morphine for cancer pain, trial {i} ({rid})",
            abstract="Randomised, double blind.",
            authors=["Yang CY", "Wong CS"],
            year=1996 + i,
            doi=f"10.1/r{rid}k{i}",
        )  # fmt: skip
        for i in range(1, 7)
    )
    records = list(rm.Record.objects.filter(batch=batch).order_by("id"))
    o["record"] = records[0]
    for record, (first, second) in zip(
        records[:3], [("include", "include"), ("include", "exclude"), ("maybe", "")], strict=True
    ):
        for who, choice in ((reviewer, first), (reviewer2, second)):
            if choice:
                screening_services.decision_create(
                    user=who, review_id=rid, record_id=record.pk, stage=TA, decision=choice
                )
        screening_services.outcome_evaluate(record_id=record.pk, stage=TA)
    o["decision"] = sm.Decision.objects.get(record=records[0], reviewer=reviewer, stage=TA)
    o["decision2"] = sm.Decision.objects.get(record=records[0], reviewer=reviewer2, stage=TA)
    o["conflict"] = sm.Outcome.objects.get(record=records[1], stage=TA)
    pdf = SimpleUploadedFile("yang.pdf", placeholder_pdf(records[0]), content_type="application/pdf")
    o["fulltext"] = screening_services.fulltext_upload(user=reviewer, review_id=rid, record_id=records[0].pk, file=pdf)
    group = rm.DuplicateGroup.objects.create(
        review=review, status=rm.DuplicateGroup.Status.PENDING, score=0.97, reason="Same DOI", primary=records[4]
    )
    group.records.set(records[4:6])
    o["group"] = group

    yang = study_services.study_create(user=editor, review_id=rid, label="Yang 1996", design=xm.Study.Design.PARALLEL)
    for name in ("Ketamine", "Control"):
        study_services.arm_create(
            user=editor, review_id=rid, study_id=yang.pk, name=name, intervention=name, randomised=20, completed=20
        )
    o["study"] = yang
    o["arm"] = yang.arms.order_by("pk").first()
    o["report"] = study_services.report_add(user=editor, review_id=rid, study_id=yang.pk, record_id=records[0].pk)
    comparison = study_services.comparison_create(
        user=editor, review_id=rid, name="Ketamine versus placebo", intervention="Ketamine", control="Opioid"
    )
    pain = study_services.outcome_create(
        user=editor, review_id=rid, name="Pain intensity", type="continuous", direction="lower_is_better"
    )
    o["comparison"], o["outcome"] = comparison, pain
    form = current_form(review)
    # The form builder's URLs name a draft (a published form refuses changes with 409 before it looks at the
    # section or field named); the extractions use the published form.
    draft = form_new_draft(user=editor, review_id=rid, form_id=form.pk)
    o["form"], o["published_form"] = draft, form
    o["section"] = xm.FormSection.objects.filter(form=draft).order_by("pk").first()
    o["field"] = xm.FormField.objects.filter(form=draft).order_by("pk").first()
    o["extraction"] = X.extraction_start(user=reviewer, review_id=rid, study_id=yang.pk)
    o["extraction2"] = X.extraction_start(user=reviewer2, review_id=rid, study_id=yang.pk)
    text = xm.FormField.objects.get(form=form, key="methods_setting")  # a field shown for every design
    X.extraction_save(
        user=reviewer, review_id=rid, extraction_id=o["extraction"].pk, version=None,
        values={text.key: "Carol-blinded-value"},
    )  # fmt: skip
    o["value"] = xm.FieldValue.objects.filter(extraction=o["extraction"]).first()
    consensus = X.consensus_start(user=editor, review_id=rid, study_id=yang.pk)
    X.outcome_data_save(
        user=editor, review_id=rid, extraction_id=consensus.pk, version=None,
        rows=[{"comparison": comparison.pk, "outcome": pain.pk, "subgroup": "", "mean_1": 3.0, "sd_1": 2.0,
               "total_1": 20, "mean_2": 3.9, "sd_2": 2.1, "total_2": 20}],
    )  # fmt: skip
    o["consensus"] = consensus
    o["discrepancy"] = xm.Discrepancy.objects.create(
        review=review,
        study=yang,
        form=form,
        key=f"field:{text.key}",
        label="Value",
        values={reviewer.username: "a", reviewer2.username: "b"},
    )
    synthesis_services.recompute_review(review_id=rid)
    o["analysis"] = Analysis.objects.filter(review=review).order_by("pk").first()

    settings = rob_services.settings_for(review)
    rob_services.settings_update(user=owner, review_id=rid, version=settings.version, tool="rob1")
    a = rob_services.assessment_start(user=reviewer, review_id=rid, study_id=yang.pk)
    rob_services.judgement_save(
        user=reviewer, review_id=rid, assessment_id=a.pk, version=a.version, domain=gm.ROB1_DOMAINS[0],
        judgement="low", support="Carol-blinded-support",
    )  # fmt: skip
    o["assessment"] = a
    o["assessment2"] = rob_services.assessment_start(user=reviewer2, review_id=rid, study_id=yang.pk)
    consensus_rob = rob_services.consensus_start(user=editor, review_id=rid, study_id=yang.pk)
    for domain in gm.ROB1_DOMAINS:  # a consensus to plot: the traffic light and summary figures
        consensus_rob.refresh_from_db()
        rob_services.judgement_save(
            user=editor, review_id=rid, assessment_id=consensus_rob.pk, version=consensus_rob.version,
            domain=domain, judgement="unclear", support="Not described in the report.",
        )  # fmt: skip
    consensus_rob.refresh_from_db()
    rob_services.overall_save(
        user=editor, review_id=rid, assessment_id=consensus_rob.pk, version=consensus_rob.version, overall="unclear"
    )
    o["rob_consensus"] = consensus_rob
    o["rob_discrepancy"] = gm.RobDiscrepancy.objects.create(
        review=review,
        study=yang,
        domain=gm.ROB1_DOMAINS[0],
        values={reviewer.username: "low", reviewer2.username: "high"},
    )
    o["certainty"] = certainty_services.certainty_save(
        user=editor, review_id=rid, comparison_id=comparison.pk, outcome_id=pain.pk, version=0,
        changes={"imprecision": -1}, explanations={"imprecision": "Few participants."},
    )  # fmt: skip
    o["transfer"] = ReviewTransfer.objects.create(
        user=owner, filename="review.json", status=ReviewTransfer.Status.FAILED, error="Not a Sieve export."
    )
    for obj in o.values():
        if obj is not None and hasattr(obj, "refresh_from_db"):
            obj.refresh_from_db()
    return s


@dataclass
class World:
    mine: Seeded  # the cast's review
    other: Seeded  # dave's review
    users: dict[str, Any]

    def user(self, who: str) -> Any:
        return self.users.get(who)


def build() -> World:
    names = ("alice", "bob", "carol", "erin", "dave", "fay", "gus", "hal")
    users = {n: UserFactory(username=n) for n in names}
    review = ReviewFactory(title="Ketamine as an adjuvant to opioids for cancer pain", created_by=users["alice"])
    other = ReviewFactory(title="Another team's review", created_by=users["dave"])
    _people(review, users["alice"], users["bob"], (users["carol"], users["erin"]))
    _people(other, users["dave"], users["fay"], (users["gus"], users["hal"]))
    mine = populate(review, users["alice"], users["bob"], users["carol"], users["erin"])
    theirs = populate(other, users["dave"], users["fay"], users["gus"], users["hal"])
    return World(mine=mine, other=theirs, users=users)
