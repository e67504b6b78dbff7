"""Study pages: the studies list (making studies, starting and assigning extractions, blinding), a study's page
(details, reports, arms), outcomes and comparisons, the extraction settings; roles on every page."""

import pytest

from extraction.models import Arm, Comparison, Extraction, ExtractionSettings, Outcome, Study, StudyReport
from extraction.services import extracting as X
from extraction.services import studies as S
from screening.models import Choice, Stage
from screening.models import Outcome as ScreeningOutcome
from screening.tests.test_screening import make_records

pytestmark = pytest.mark.django_db


def included(review, n):
    """n records included at full text (no study yet)."""
    records = make_records(review, n)
    for record in records:
        ScreeningOutcome.objects.create(
            review=review, record=record, stage=Stage.FULL_TEXT, status="settled", decision=Choice.INCLUDE
        )
    return records


def url(review, path=""):
    return f"/reviews/{review.pk}/{path}"


# --- roles ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,who,expected",
    [
        ("studies/", "carol", 200),
        ("studies/", "bob", 200),
        ("studies/", "dave", 404),
        ("studies/{yang}/", "carol", 200),
        ("studies/{yang}/", "alice", 200),
        ("studies/{yang}/", "dave", 404),
        ("outcomes/", "carol", 200),
        ("outcomes/", "bob", 200),
        ("outcomes/", "dave", 404),
        ("consensus/", "carol", 403),
        ("consensus/", "bob", 200),
        ("consensus/", "dave", 404),
        ("extraction/settings/", "bob", 403),
        ("extraction/settings/", "alice", 200),
        ("extraction/settings/", "dave", 404),
    ],
)
def test_page_roles(cast, seed, web, path, who, expected):
    assert web(who).get(url(cast.review, path.format(yang=seed.yang.pk))).status_code == expected


@pytest.mark.parametrize("path", ["studies/", "studies/{yang}/", "outcomes/", "consensus/", "extraction/settings/"])
def test_anonymous_is_sent_to_login(cast, seed, web, path):
    response = web("anonymous").get(url(cast.review, path.format(yang=seed.yang.pk)))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "path,data",
    [
        ("studies/new/", {"label": "Smith 2020", "design": "parallel"}),
        ("studies/from-included/", {}),
        ("studies/{yang}/", {"label": "X", "design": "parallel", "version": 1}),
        ("studies/{yang}/delete/", {}),
        ("studies/{yang}/arms/add/", {"arm-new-name": "Extra"}),
        ("studies/{yang}/arms/{arm}/", {"arm{arm}-name": "Renamed"}),
        ("studies/{yang}/arms/{arm}/delete/", {}),
        ("studies/{yang}/consensus/", {}),
        ("outcomes/add/", {"outcome-new-name": "Nausea", "outcome-new-type": "dichotomous"}),
        ("outcomes/{pain}/delete/", {}),
        ("comparisons/{comparison}/delete/", {}),
        ("extraction/settings/", {"extractors_per_study": 1, "version": 1}),
    ],
)
def test_a_reviewer_cannot_change_studies_outcomes_or_settings(cast, seed, web, path, data):
    arm = seed.arm(seed.yang, "Ketamine")
    ids = {"yang": seed.yang.pk, "arm": arm.pk, "pain": seed.pain.pk, "comparison": seed.comparison.pk}
    before = (Study.objects.count(), Arm.objects.count(), Outcome.objects.count(), Comparison.objects.count())
    posted = {key.format(**ids): value for key, value in data.items()}
    assert web("carol").post(url(cast.review, path.format(**ids)), posted).status_code == 403
    assert (Study.objects.count(), Arm.objects.count(), Outcome.objects.count(), Comparison.objects.count()) == before
    assert not Extraction.objects.exists()
    seed.yang.refresh_from_db()
    assert seed.yang.label == "Yang 1996" and Arm.objects.get(pk=arm.pk).name == "Ketamine"


@pytest.mark.parametrize(
    "path",
    [
        "studies/{hardy}/",
        "studies/{hardy}/delete/",
        "studies/{hardy}/arms/add/",
        "studies/{hardy}/arms/{arm}/",
        "studies/{hardy}/arms/{arm}/delete/",
        "studies/{hardy}/extract/",
        "studies/{hardy}/consensus/",
        "studies/{hardy}/reports/{record}/primary/",
        "studies/{hardy}/reports/{record}/remove/",
        "outcomes/{pain}/",
        "outcomes/{pain}/delete/",
        "comparisons/{comparison}/",
        "comparisons/{comparison}/delete/",
    ],
)
def test_another_reviews_ids_are_not_found_and_nothing_changes(cast, seed, web, path):
    """dave owns his review; the ketamine review's ids under his review's URLs are not there."""
    (record,) = included(cast.review, 1)
    S.report_add(user=cast.bob, review_id=cast.review.pk, study_id=seed.hardy.pk, record_id=record.pk)
    arm = seed.arm(seed.hardy, "Ketamine")
    ids = {"hardy": seed.hardy.pk, "arm": arm.pk, "record": record.pk, "pain": seed.pain.pk,
           "comparison": seed.comparison.pk}  # fmt: skip
    data = {"label": "Taken", "design": "parallel", "version": 1, f"arm{arm.pk}-name": "Taken",
            "arm-new-name": "Taken", f"outcome{seed.pain.pk}-name": "Taken", f"outcome{seed.pain.pk}-type": "giv",
            f"comparison{seed.comparison.pk}-name": "Taken", f"comparison{seed.comparison.pk}-intervention": "A",
            f"comparison{seed.comparison.pk}-control": "B"}  # fmt: skip
    response = web("dave").post(url(cast.other_review, path.format(**ids)), data)
    assert response.status_code == 404
    assert Study.objects.get(pk=seed.hardy.pk).label == "Hardy 2012"
    assert sorted(seed.hardy.arms.values_list("name", flat=True)) == ["Ketamine", "Placebo"]
    assert Outcome.objects.get(pk=seed.pain.pk).name == "Pain intensity"
    assert Comparison.objects.get(pk=seed.comparison.pk).name == "Ketamine versus placebo"
    assert StudyReport.objects.filter(study=seed.hardy, record=record).exists()
    assert not Extraction.objects.exists()
    # and from his own review, with the ketamine review's ids: also 404 for GETs
    assert web("dave").get(url(cast.other_review, f"studies/{seed.hardy.pk}/")).status_code == 404


# --- the studies list ----------------------------------------------------------------------------------------------


def test_studies_list_shows_designs_reports_arms_and_the_editors_tools(cast, seed, web):
    (record,) = included(cast.review, 1)
    S.report_add(user=cast.bob, review_id=cast.review.pk, study_id=seed.hardy.pk, record_id=record.pk)
    included(cast.review, 2)
    page = web("bob").get(url(cast.review, "studies/")).content.decode()
    for text in ("Yang 1996", "Mercadante 2000", "Hardy 2012", "Crossover randomised", record.title,
                 "Ketamine 0.25: 10 / 10", "Ketamine: 93 / 75", "Placebo: 92 / 74"):  # fmt: skip
        assert text in page
    assert "<strong>2</strong> records included at full text report no study yet" in page
    assert "Create studies from included records" in page and "New study" in page and "Assign" in page
    reviewer_page = web("carol").get(url(cast.review, "studies/")).content.decode()
    assert "Create studies from included records" not in reviewer_page and "Assign" not in reviewer_page
    assert reviewer_page.count(">Extract<span") == 3


def test_the_studies_list_takes_a_constant_number_of_queries(cast, seed, web, django_assert_max_num_queries):
    for study in (seed.yang, seed.hardy):
        X.extraction_start(user=cast.carol, review_id=cast.review.pk, study_id=study.pk)
        X.extraction_start(user=cast.erin, review_id=cast.review.pk, study_id=study.pk)
    client = web("bob")
    with django_assert_max_num_queries(16):
        assert client.get(url(cast.review, "studies/")).status_code == 200
    for n in range(20):
        S.study_create(user=cast.bob, review_id=cast.review.pk, label=f"Extra {n}")
    with django_assert_max_num_queries(16):
        assert client.get(url(cast.review, "studies/")).status_code == 200


def test_studies_from_included_records(cast, seed, web):
    records = included(cast.review, 2)
    Study.objects.filter(review=cast.review).delete()
    client = web("bob")
    response = client.post(url(cast.review, "studies/from-included/"))
    assert response.status_code == 302
    assert StudyReport.objects.filter(record__in=records, primary=True).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "2 studies created from included records" in page
    assert "Every record included at full text reports a study." in page


def test_a_study_by_hand_with_records(cast, seed, web):
    first, second = included(cast.review, 2)
    data = {"label": "Smith 2020", "design": "crossover", "records": [str(first.pk)], "record_ids": f"{second.pk}"}
    response = web("bob").post(url(cast.review, "studies/new/"), data)
    study = Study.objects.get(label="Smith 2020")
    assert response.status_code == 302 and response["Location"].endswith(f"/studies/{study.pk}/")
    assert study.design == "crossover"
    assert set(study.reports.values_list("record_id", "primary")) == {(first.pk, True), (second.pk, False)}


def test_a_study_by_hand_shows_messages_at_the_fields(cast, seed, web):
    page = web("bob").post(url(cast.review, "studies/new/"), {"label": "", "design": "parallel"}).content.decode()
    assert "Give the study ID" in page and 'aria-invalid="true"' in page and 'id="id_label_error"' in page
    page = web("bob").post(url(cast.review, "studies/new/"), {"label": "Yang 1996", "design": "parallel"})
    assert "already has a study “Yang 1996”" in page.content.decode()
    page = web("bob").post(url(cast.review, "studies/new/"), {"label": "Z", "design": "parallel", "record_ids": "x1"})
    assert "“x1” is not a record ID" in page.content.decode()
    assert Study.objects.count() == 3


def test_each_reviewer_starts_their_extraction_and_a_full_study_refuses_a_third(cast, seed, web):
    response = web("carol").post(url(cast.review, f"studies/{seed.hardy.pk}/extract/"))
    mine = Extraction.objects.get(reviewer=cast.carol)
    assert response["Location"] == f"/reviews/{cast.review.pk}/extractions/{mine.pk}/"
    # again: the same one
    assert web("carol").post(url(cast.review, f"studies/{seed.hardy.pk}/extract/"))["Location"] == response["Location"]
    web("erin").post(url(cast.review, f"studies/{seed.hardy.pk}/extract/"))
    response = web("bob").post(url(cast.review, f"studies/{seed.hardy.pk}/extract/"), follow=True)
    assert "already has its 2 extractors" in response.content.decode()
    assert Extraction.objects.filter(study=seed.hardy).count() == 2


def test_an_editor_assigns_an_extractor_and_a_reviewer_cannot(cast, seed, web):
    response = web("bob").post(url(cast.review, f"studies/{seed.yang.pk}/extract/"), {"reviewer": cast.carol.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"/studies/#study-{seed.yang.pk}")
    assert Extraction.objects.get(study=seed.yang).reviewer == cast.carol
    response = web("carol").post(
        url(cast.review, f"studies/{seed.hardy.pk}/extract/"), {"reviewer": cast.erin.pk}, follow=True
    )
    assert "Only an editor or owner assigns" in response.content.decode()
    assert not Extraction.objects.filter(study=seed.hardy).exists()
    response = web("bob").post(url(cast.review, f"studies/{seed.hardy.pk}/extract/"), {"reviewer": cast.dave.pk})
    assert not Extraction.objects.filter(study=seed.hardy).exists()


def test_blinding_on_the_studies_list(cast, seed, web):
    a = X.extraction_start(user=cast.carol, review_id=cast.review.pk, study_id=seed.hardy.pk)
    b = X.extraction_start(user=cast.erin, review_id=cast.review.pk, study_id=seed.hardy.pk)
    Extraction.objects.filter(pk=b.pk).update(status="complete")
    carol = web("carol").get(url(cast.review, "studies/")).content.decode()
    assert "erin" not in carol and "Complete" not in carol
    assert f"/extractions/{a.pk}/" in carol and f"/extractions/{b.pk}/" not in carol
    assert "2 of 2 extractors" in carol
    study = web("carol").get(url(cast.review, f"studies/{seed.hardy.pk}/")).content.decode()
    assert "erin" not in study and f"/extractions/{b.pk}/" not in study
    bob = web("bob").get(url(cast.review, "studies/")).content.decode()
    assert "erin" in bob and f"/extractions/{b.pk}/" in bob and "Complete" in bob
    # unblinded, the reviewers see each other's progress
    ExtractionSettings.objects.filter(review=cast.review).update(blinded=False)
    carol = web("carol").get(url(cast.review, "studies/")).content.decode()
    assert "erin" in carol and f"/extractions/{b.pk}/" in carol


def test_the_studies_list_links_open_discrepancies_for_editors(cast, seed, web):
    from extraction.models import Discrepancy

    Discrepancy.objects.create(review=cast.review, study=seed.yang, form=seed.form, key="field:x", label="X",
                               values={"carol": "a", "erin": "b"})  # fmt: skip
    bob = web("bob").get(url(cast.review, "studies/")).content.decode()
    assert "1 open discrepancy" in bob and f"consensus/?study={seed.yang.pk}" in bob
    assert "discrepanc" not in web("carol").get(url(cast.review, "studies/")).content.decode()


# --- a study -------------------------------------------------------------------------------------------------------


def test_study_details_are_saved_with_their_version(cast, seed, web):
    page = web("bob").get(url(cast.review, f"studies/{seed.yang.pk}/")).content.decode()
    assert 'name="version" value="1"' in page
    data = {"label": "Yang 1996a", "design": "crossover", "notes": "Abstract only", "version": 1}
    assert web("bob").post(url(cast.review, f"studies/{seed.yang.pk}/"), data).status_code == 302
    seed.yang.refresh_from_db()
    assert (seed.yang.label, seed.yang.notes, seed.yang.version) == ("Yang 1996a", "Abstract only", 2)
    stale = web("alice").post(url(cast.review, f"studies/{seed.yang.pk}/"), data | {"label": "Yang", "version": 1})
    assert stale.status_code == 409 and "Someone else changed this study" in stale.content.decode()
    seed.yang.refresh_from_db()
    assert seed.yang.label == "Yang 1996a"
    clash = web("bob").post(url(cast.review, f"studies/{seed.yang.pk}/"), data | {"label": "Hardy 2012", "version": 2})
    assert "already has a study “Hardy 2012”" in clash.content.decode()


def test_a_reviewer_reads_the_study_page(cast, seed, web):
    page = web("carol").get(url(cast.review, f"studies/{seed.mercadante.pk}/")).content.decode()
    assert "Ketamine 0.25" in page and "0.5 mg/kg" in page and "Intravenous" in page
    assert "Add arm" not in page and "Save details" not in page and "Add a report" not in page
    assert "You have not started this study." in page


def test_arms_added_edited_deleted_with_messages_at_the_field(cast, seed, web):
    client = web("bob")
    base = url(cast.review, f"studies/{seed.hardy.pk}/arms/")
    response = client.post(f"{base}add/", {"arm-new-name": "Morphine", "arm-new-randomised": "10",
                                           "arm-new-completed": "12"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "More completed (12) than randomised (10)" in page
    assert 'id="id_arm-new-completed_error"' in page and 'aria-describedby="id_arm-new-completed_helptext ' in page
    response = client.post(f"{base}add/", {"arm-new-name": "Morphine", "arm-new-randomised": "abc"})
    assert "Enter a whole number." in response.content.decode()
    response = client.post(f"{base}add/", {"arm-new-name": "Morphine", "arm-new-randomised": "10",
                                           "arm-new-route": "Oral"})  # fmt: skip
    assert response.status_code == 302
    arm = Arm.objects.get(study=seed.hardy, name="Morphine")
    response = client.post(f"{base}{arm.pk}/", {f"arm{arm.pk}-name": "Placebo"})
    assert "already has an arm “Placebo”" in response.content.decode()
    assert client.post(f"{base}{arm.pk}/", {f"arm{arm.pk}-name": "Oral morphine", f"arm{arm.pk}-dose": "10 mg"})
    arm.refresh_from_db()
    assert (arm.name, arm.dose, arm.randomised) == ("Oral morphine", "10 mg", None)
    assert client.post(f"{base}{arm.pk}/delete/").status_code == 302
    assert not Arm.objects.filter(pk=arm.pk).exists()


def test_reports_added_made_primary_removed_and_moved_on_confirmation(cast, seed, web):
    first, second = included(cast.review, 2)
    client = web("bob")
    hardy = url(cast.review, f"studies/{seed.hardy.pk}/reports/")
    assert client.post(f"{hardy}add/", {"record": str(first.pk)}).status_code == 302
    assert client.post(f"{hardy}add/", {"pick": str(second.pk)}).status_code == 302
    assert list(seed.hardy.reports.values_list("record_id", "primary")) == [(first.pk, True), (second.pk, False)]
    page = web("bob").get(url(cast.review, f"studies/{seed.hardy.pk}/")).content.decode()
    assert first.title in page and "MEDLINE (Ovid)" in page and "Primary" in page
    client.post(f"{hardy}{second.pk}/primary/")
    assert seed.hardy.reports.get(primary=True).record == second
    # A record of Hardy added to Yang: asked first, moved on "Move here"
    yang = url(cast.review, f"studies/{seed.yang.pk}/reports/")
    page = client.post(f"{yang}add/", {"record": str(first.pk)}).content.decode()
    assert "reports <a" in page and "Hardy 2012" in page and "Move here" in page
    assert StudyReport.objects.get(record=first).study == seed.hardy
    assert client.post(f"{yang}add/", {"record": str(first.pk), "move": "on"}).status_code == 302
    assert StudyReport.objects.get(record=first).study == seed.yang
    assert StudyReport.objects.get(record=first).history.count() >= 2
    client.post(f"{yang}{first.pk}/remove/")
    assert not StudyReport.objects.filter(record=first).exists()
    page = client.post(f"{hardy}add/", {"record": "99999"})
    assert page.status_code == 404
    page = client.post(f"{hardy}add/", {}).content.decode()
    assert "pick one of the included records" in page


def test_a_study_with_extractions_is_not_deleted(cast, seed, web):
    X.extraction_start(user=cast.carol, review_id=cast.review.pk, study_id=seed.hardy.pk)
    response = web("bob").post(url(cast.review, f"studies/{seed.hardy.pk}/delete/"), follow=True)
    assert "has extractions" in response.content.decode()
    assert Study.objects.filter(pk=seed.hardy.pk).exists()
    assert web("bob").post(url(cast.review, f"studies/{seed.yang.pk}/delete/")).status_code == 302
    assert not Study.objects.filter(pk=seed.yang.pk).exists()


# --- outcomes and comparisons --------------------------------------------------------------------------------------


def test_outcomes_and_comparisons_added_edited_deleted(cast, seed, web):
    client = web("bob")
    page = client.get(url(cast.review, "outcomes/")).content.decode()
    assert "Pain intensity" in page and "End of treatment" in page and "Generic inverse variance" in page
    response = client.post(url(cast.review, "outcomes/add/"), {
        "outcome-new-name": "Nausea", "outcome-new-type": "dichotomous", "outcome-new-direction": "lower_is_better",
    })  # fmt: skip
    assert response.status_code == 302
    nausea = Outcome.objects.get(name="Nausea")
    prefix = f"outcome{nausea.pk}"
    data = {f"{prefix}-name": "Nausea and vomiting", f"{prefix}-type": "dichotomous",
            f"{prefix}-direction": "lower_is_better", f"{prefix}-version": 1}  # fmt: skip
    assert client.post(url(cast.review, f"outcomes/{nausea.pk}/"), data).status_code == 302
    stale = client.post(url(cast.review, f"outcomes/{nausea.pk}/"), data | {f"{prefix}-name": "Emesis"})
    assert stale.status_code == 409 and "Someone else changed this outcome" in stale.content.decode()
    assert Outcome.objects.get(pk=nausea.pk).name == "Nausea and vomiting"
    page = client.post(url(cast.review, "outcomes/add/"), {"outcome-new-name": "Pain intensity",
                                                           "outcome-new-timepoint": "End of treatment",
                                                           "outcome-new-type": "continuous",
                                                           "outcome-new-direction": "lower_is_better"})  # fmt: skip
    assert "already has the outcome" in page.content.decode()
    assert client.post(url(cast.review, f"outcomes/{nausea.pk}/delete/")).status_code == 302
    assert not Outcome.objects.filter(pk=nausea.pk).exists()
    response = client.post(url(cast.review, "comparisons/add/"), {
        "comparison-new-name": "Ketamine versus morphine", "comparison-new-intervention": "Ketamine",
        "comparison-new-control": "Morphine",
    })  # fmt: skip
    assert response.status_code == 302
    made = Comparison.objects.get(name="Ketamine versus morphine")
    prefix = f"comparison{made.pk}"
    data = {f"{prefix}-name": "Ketamine versus placebo", f"{prefix}-intervention": "K", f"{prefix}-control": "P",
            f"{prefix}-version": 1}  # fmt: skip
    page = client.post(url(cast.review, f"comparisons/{made.pk}/"), data)
    assert "already has the comparison" in page.content.decode()


def test_an_outcome_with_data_is_kept(cast, seed, web):
    a = X.extraction_start(user=cast.carol, review_id=cast.review.pk, study_id=seed.hardy.pk)
    rows = [{"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": 1}]
    X.outcome_data_save(user=cast.carol, review_id=cast.review.pk, extraction_id=a.pk, version=None, rows=rows)
    response = web("bob").post(url(cast.review, f"outcomes/{seed.adverse.pk}/delete/"), follow=True)
    assert "has data in studies" in response.content.decode()
    assert Outcome.objects.filter(pk=seed.adverse.pk).exists()


def test_a_reviewer_reads_outcomes_without_forms(cast, seed, web):
    page = web("carol").get(url(cast.review, "outcomes/")).content.decode()
    assert "Pain intensity" in page and "Ketamine versus placebo" in page
    assert "Add an outcome" not in page and ">Edit<" not in page and "<form" not in page.split("</nav>")[-1]


# --- settings ------------------------------------------------------------------------------------------------------


def test_the_owner_changes_the_extraction_settings_with_their_version(cast, seed, web):
    client = web("alice")
    page = client.get(url(cast.review, "extraction/settings/")).content.decode()
    assert "Two independent extractors" in page and "Blinded extraction" in page
    data = {"extractors_per_study": 1, "version": 1}  # unticked: not blinded
    assert client.post(url(cast.review, "extraction/settings/"), data).status_code == 302
    current = ExtractionSettings.objects.get(review=cast.review)
    assert (current.extractors_per_study, current.blinded, current.version) == (1, False, 2)
    stale = client.post(url(cast.review, "extraction/settings/"), {"extractors_per_study": 2, "version": 1})
    assert stale.status_code == 409 and "Someone else changed this setting" in stale.content.decode()
    assert ExtractionSettings.objects.get(review=cast.review).extractors_per_study == 1


def test_the_nav_shows_studies_to_all_and_consensus_and_forms_to_editors(cast, seed, web):
    carol = web("carol").get(url(cast.review, "studies/")).content.decode()
    assert f"/reviews/{cast.review.pk}/studies/" in carol and f"/reviews/{cast.review.pk}/consensus/" not in carol
    bob = web("bob").get(url(cast.review, "studies/")).content.decode()
    assert f"/reviews/{cast.review.pk}/consensus/" in bob and f"/reviews/{cast.review.pk}/forms/" in bob
    assert "Extraction settings" not in bob
    assert "Extraction settings" in web("alice").get(url(cast.review, "studies/")).content.decode()
