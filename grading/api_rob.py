"""REST API of risk of bias: the review's settings, the assessments a member may read (each with its domain
judgements and, for RoB 2, the signalling questions each domain asks given its answers), saving a domain
judgement or the overall one, completing, the consensus, the discrepancies the worker finds and the editor's
resolutions, and the history of an assessment's judgements.

Blinding is the selectors' (`grading.selectors`): while assessment is blinded a reviewer reads only their own
assessments; another's, and the consensus, answer 404 as if they did not exist, and the discrepancies (which
name every assessor's judgement) 403. The serializers here only render what a selector returned. Writes go
through `grading.services`, which lock the assessment, refuse a stale `version` (409, naming what changed
since) and check who may write; their field errors come back as 400 under the field's name."""

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination
from extraction.api import VERSION_HELP, member_review
from extraction.models import Outcome, Study
from grading import rob, selectors, services
from grading.models import RobAssessment, RobDiscrepancy, RobJudgement, RobSettings, Tool
from reviews.api import ERRORS
from reviews.models import Membership, Review

Role = Membership.Role
TAGS = ["risk of bias"]
STALE_HELP = VERSION_HELP + " The 409 message lists the judgements changed since."


def doc(**kwargs: Any) -> Any:
    """extend_schema with the risk-of-bias tag."""
    return extend_schema(tags=TAGS, **kwargs)


def questions_for(tool: str, domain: str, answers: dict[str, str], variant: str) -> list[rob.Question]:
    """The signalling questions a domain asks given the answers so far (a form shows these, hides the rest)."""
    if tool == Tool.ROB2:
        return rob.rob2_questions(domain, answers, variant=variant)
    if tool == Tool.ROBINS:
        # TODO(ROBINS-I questions): grading/rob.py has no ROBINS-I signalling questions yet (being added); when
        # they land, return them here (e.g. `rob.robins_questions(domain, answers)`). Until then none are listed
        # and the client sends the domain judgement with whatever answers it keeps.
        return []
    return []  # RoB 1 asks no signalling questions: the assessor gives the judgement and its support


# --- serializers ----------------------------------------------------------------------------------------------
# Every component is named Rob… (RobDiscrepancy, RobSettings): extraction's `Discrepancy` and `ExtractionSettings`
# share the schema. A PATCH body takes its model's component name (`PatchedRobAssessmentRequest`, …).
# The statuses are documented with labels of their own: with the models' labels, extraction's identical choice sets
# ("In progress"/"Complete", "Open"/"Resolved") would share one enum across components, which drf-spectacular can
# only name by a hash (a warning, which fails `spectacular --fail-on-warn`).

ASSESSMENT_STATUSES = [
    (RobAssessment.Status.IN_PROGRESS.value, "In progress (a domain or the overall judgement still to give)"),
    (RobAssessment.Status.COMPLETE.value, "Complete (every domain and the overall judged)"),
]
DISCREPANCY_STATUSES = [
    (RobDiscrepancy.Status.OPEN.value, "Open (the assessors differ; no consensus judgement yet)"),
    (RobDiscrepancy.Status.RESOLVED.value, "Resolved (an editor gave the consensus judgement)"),
]


class RobSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = RobSettings
        fields = ["tool", "assessors_per_study", "blinded", "version"]
        read_only_fields = ["version"]


@extend_schema_serializer(component_name="RobSettings")  # documented as PatchedRobSettingsRequest
class RobSettingsChangeSerializer(RobSettingsSerializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)

    class Meta(RobSettingsSerializer.Meta):
        read_only_fields: list[str] = []
        extra_kwargs = {
            "tool": {"required": False, "help_text": "Cannot change once the review has assessments."},
            "assessors_per_study": {"required": False},
            "blinded": {"required": False},
        }


class RobQuestionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The question's number in the tool, e.g. `2.3`; the key in `answers`.")
    text = serializers.CharField()
    allowed = serializers.ListField(child=serializers.ChoiceField(choices=rob.ANSWERS), help_text="Its answers.")
    needed_when = serializers.CharField(help_text="When a conditional question is asked; empty: always.")


class RobDomainSerializer(serializers.Serializer):
    domain = serializers.CharField()
    questions = RobQuestionSerializer(
        many=True, help_text="The questions asked given the saved answers (RoB 2; none for RoB 1)."
    )


class RobJudgementSerializer(serializers.ModelSerializer):
    answers = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Signalling question id → answer."
    )
    proposed = serializers.CharField(read_only=True, help_text="The RoB 2 algorithm's judgement; empty otherwise.")
    override_reason = serializers.CharField(
        read_only=True, help_text="Why the judgement differs from the proposal (empty when it follows it)."
    )
    updated_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="null on a consensus row: the worker wrote what both agreed.",
    )

    class Meta:
        model = RobJudgement
        fields = [
            "domain",
            "answers",
            "proposed",
            "judgement",
            "override_reason",
            "support",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields


class RobAssessmentSerializer(serializers.ModelSerializer):
    study_label = serializers.CharField(source="study.label", read_only=True)
    outcome = serializers.IntegerField(
        source="outcome_id", read_only=True, allow_null=True, help_text="null: the whole study."
    )
    outcome_name = serializers.CharField(source="outcome.name", read_only=True, allow_null=True, default=None)
    assessor: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null for the consensus."
    )
    consensus = serializers.BooleanField(source="is_consensus", read_only=True)
    status = serializers.ChoiceField(choices=ASSESSMENT_STATUSES, read_only=True)
    domains = serializers.SerializerMethodField(
        help_text="Every domain this assessment judges, in order, with the questions it asks now."
    )
    judgements = RobJudgementSerializer(many=True, read_only=True, help_text="The domains judged so far.")

    class Meta:
        model = RobAssessment
        fields = [
            "id", "study", "study_label", "outcome", "outcome_name", "assessor", "consensus", "tool", "variant",
            "status", "overall", "overall_proposed", "overall_override_reason", "version", "domains", "judgements",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "overall_proposed": {"help_text": "Proposed once every domain is judged; empty before."},
            "version": {"help_text": "Send it back with a save; it counts the saves."},
        }

    @extend_schema_field(RobDomainSerializer(many=True))
    def get_domains(self, assessment: RobAssessment) -> list[dict[str, Any]]:
        # `judgements` is prefetched by the selector: no query per assessment.
        answers = {j.domain: j.answers or {} for j in assessment.judgements.all()}
        domains = services.domains_for(assessment.tool, assessment.study)
        return [
            {
                "domain": d,
                "questions": RobQuestionSerializer(
                    questions_for(assessment.tool, d, answers.get(d, {}), assessment.variant), many=True
                ).data,
            }
            for d in domains
        ]


class ReviewScopedSerializer(serializers.Serializer):
    """A body naming a study (and outcome) by id: only this review's are valid (another's: 400 under its name)."""

    study = serializers.PrimaryKeyRelatedField(queryset=Study.objects.none())
    outcome = serializers.PrimaryKeyRelatedField(
        queryset=Outcome.objects.none(),
        required=False,
        allow_null=True,
        help_text="An outcome of the review to assess that result; omitted or null: the whole study.",
    )

    def __init__(self, *args: Any, review: Review | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if review is not None:
            self.fields["study"].queryset = Study.objects.filter(review=review)  # type: ignore[attr-defined]
            self.fields["outcome"].queryset = Outcome.objects.filter(review=review)  # type: ignore[attr-defined]


class RobAssessmentStartSerializer(ReviewScopedSerializer):
    variant = serializers.ChoiceField(
        choices=RobAssessment.Variant.choices,
        default=RobAssessment.Variant.ASSIGNMENT,
        help_text="RoB 2: the effect of interest (decides the questions of domain 2).",
    )
    assessor = serializers.IntegerField(
        required=False, allow_null=True, help_text="Editor, owner: the user id of the member to assign (default: me)."
    )


class RobConsensusStartSerializer(ReviewScopedSerializer):
    pass


@extend_schema_serializer(component_name="RobAssessment")  # documented as PatchedRobAssessmentRequest
class RobAssessmentChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=STALE_HELP)
    overall = serializers.CharField(
        required=False, help_text="The final overall judgement (one of the tool's judgements)."
    )
    overall_override_reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Needed when `overall` differs from `overall_proposed`."
    )
    status = serializers.ChoiceField(
        choices=ASSESSMENT_STATUSES,
        required=False,
        help_text="complete: every domain and the overall are judged (after `overall` is saved); in_progress: "
        "reopen. Completing an assessor's assessment has the worker compare it with the other assessor's.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "overall" not in attrs and "status" not in attrs:
            raise serializers.ValidationError(
                "Send `overall` (with `overall_override_reason` if needed), `status` or both."
            )
        if "overall_override_reason" in attrs and "overall" not in attrs:
            raise serializers.ValidationError({"overall": "Send the overall judgement with its reason."})
        return attrs


@extend_schema_serializer(component_name="RobJudgement")  # documented as RobJudgementRequest (PUT), Patched… (PATCH)
class RobJudgementSaveSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=STALE_HELP)
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=rob.ANSWERS),
        required=False,
        help_text="Signalling question id → answer (RoB 2: needed, the proposal comes from them; ROBINS-I: kept "
        "as given; RoB 1: none).",
    )
    judgement = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The domain's judgement. RoB 2: omitted or empty takes the proposal; RoB 1, ROBINS-I: needed.",
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Needed when the judgement differs from the RoB 2 proposal."
    )
    support = serializers.CharField(required=False, allow_blank=True, help_text="Quote or justification.")


def merged_with_saved(saved: RobJudgement | None, data: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body completed from the saved judgement: what is not sent stays. A judgement not sent stays too,
    unless it followed the RoB 2 proposal: then it follows the proposal of the new answers."""
    if saved is None:
        return data
    merged = {
        "version": data["version"],
        "answers": data.get("answers", saved.answers or {}),
        "override_reason": data.get("override_reason", saved.override_reason),
        "support": data.get("support", saved.support),
    }
    follows_proposal = bool(saved.proposed) and saved.judgement == saved.proposed
    if "judgement" in data:
        merged["judgement"] = data["judgement"]
    elif not follows_proposal:
        merged["judgement"] = saved.judgement
    return merged


class RobAssessmentFilterSerializer(serializers.Serializer):
    study = serializers.IntegerField(required=False, help_text="One study's assessments (404: not of this review).")
    outcome = serializers.RegexField(
        r"^(\d+|none)$",
        required=False,
        help_text="An outcome id: that result's assessments; `none`: the study-level ones.",
    )
    assessor = serializers.ChoiceField(
        choices=[("me", "Mine"), ("consensus", "The consensus")], required=False, help_text="me or consensus."
    )


class RobDiscrepancySerializer(serializers.ModelSerializer):
    study_label = serializers.CharField(source="study.label", read_only=True)
    outcome = serializers.IntegerField(
        source="outcome_id", read_only=True, allow_null=True, help_text="null: the whole study."
    )
    domain = serializers.CharField(read_only=True, help_text="A domain, or `overall`.")
    values = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Each assessor's final judgement by username."
    )
    status = serializers.ChoiceField(choices=DISCREPANCY_STATUSES, read_only=True)
    resolved_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = RobDiscrepancy
        fields = [
            "id", "study", "study_label", "outcome", "domain", "values", "status", "resolution", "note", "resolved_by",
            "resolved_at", "found_at",
        ]  # fmt: skip
        read_only_fields = fields


class RobDiscrepancyFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DISCREPANCY_STATUSES, required=False)
    study = serializers.IntegerField(required=False)


class RobDiscrepancyResolveSerializer(serializers.Serializer):
    take = serializers.CharField(required=False, help_text="The username of the assessor whose judgement to take.")
    judgement = serializers.CharField(required=False, help_text="Or a judgement of your own for the consensus.")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why: kept with the resolution and the consensus."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("take" in attrs) == ("judgement" in attrs):
            raise serializers.ValidationError("Send either `take` (an assessor's username) or `judgement`.")
        return attrs


class RobJudgementChangeSerializer(serializers.Serializer):
    domain = serializers.CharField(help_text="A domain, or `overall` for the overall judgement.")
    when = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True, help_text="Who saved it; null: the worker (agreed judgements).")
    change = serializers.ChoiceField(choices=[("created", "Created"), ("changed", "Changed"), ("removed", "Removed")])
    old_judgement = serializers.CharField(help_text="Empty when there was none.")
    new_judgement = serializers.CharField(help_text="Empty when removed.")
    old_answers = serializers.DictField(child=serializers.CharField(), allow_null=True)
    new_answers = serializers.DictField(child=serializers.CharField(), allow_null=True)
    proposed = serializers.CharField(help_text="The proposal at that save.")
    override_reason = serializers.CharField()
    support = serializers.CharField()


# --- helpers --------------------------------------------------------------------------------------------------


def readable(review: Review, user: User | AnonymousUser, pk: int) -> RobAssessment:
    """The assessment if the member may read it (blinding); 404 otherwise."""
    return selectors.assessment_get(review=review, user_id=cast(User, user).pk, assessment_id=pk)


def serialize_assessment(review: Review, user: User | AnonymousUser, pk: int) -> Any:
    return RobAssessmentSerializer(readable(review, user, pk)).data


def created_or_found(row: RobAssessment, started: Any) -> int:
    return status.HTTP_201_CREATED if row.created_at >= started else status.HTTP_200_OK


ASSESSMENT_ERRORS = {
    **ERRORS,
    404: OpenApiResponse(
        description="No such review or assessment, or one you may not read (another assessor's while blinded)."
    ),
}


# --- settings -------------------------------------------------------------------------------------------------


class RobSettingsView(APIView):
    @doc(
        summary="Risk-of-bias settings (members read; the owner changes them)",
        responses={200: RobSettingsSerializer, **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        return Response(RobSettingsSerializer(services.settings_for(member_review(request, review_pk))).data)

    @doc(
        summary="Change the risk-of-bias settings (owner; send the version you read; the tool stays once assessed)",
        request=RobSettingsChangeSerializer,
        responses={200: RobSettingsSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.OWNER)
        body = RobSettingsChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version")
        changed = services.settings_update(user=request.user, review_id=review.pk, version=version, **fields)
        return Response(RobSettingsSerializer(changed).data)


# --- assessments ----------------------------------------------------------------------------------------------


class RobAssessmentListView(APIView):
    pagination_class = Pagination  # also tells drf-spectacular the list is paginated

    @doc(
        summary="The assessments you may read: yours (a reviewer, while blinded), or every one and the consensus",
        parameters=[RobAssessmentFilterSerializer],
        responses={200: RobAssessmentSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        query = RobAssessmentFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        outcome = query.validated_data.get("outcome", "")
        found = selectors.assessment_search(
            review=review, user_id=cast(User, request.user).pk, study_id=query.validated_data.get("study"),
            outcome_id=int(outcome) if outcome.isdigit() else None, whole_study=outcome == "none",
            assessor=query.validated_data.get("assessor", ""),
        )  # fmt: skip
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(found, request, view=self)
        return paginator.get_paginated_response(RobAssessmentSerializer(page, many=True).data)

    @doc(
        summary="Start my assessment of a study (or of one outcome's result) with the review's tool (an editor "
        "may assign a member); 201 when started now, 200 when it existed",
        request=RobAssessmentStartSerializer,
        responses={200: RobAssessmentSerializer, 201: RobAssessmentSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        body = RobAssessmentStartSerializer(data=request.data, review=review)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        started = timezone.now()
        assessment = services.assessment_start(
            user=request.user, review_id=review.pk, study_id=data["study"].pk,
            outcome_id=data["outcome"].pk if data.get("outcome") else None, variant=data["variant"],
            assessor_id=data.get("assessor"),
        )  # fmt: skip
        return Response(
            serialize_assessment(review, request.user, assessment.pk), status=created_or_found(assessment, started)
        )


class RobAssessmentDetailView(APIView):
    @doc(
        summary="One assessment (another assessor's, or the consensus, is 404 for a reviewer while blinded)",
        responses={200: RobAssessmentSerializer, **ASSESSMENT_ERRORS},
    )
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(serialize_assessment(review, request.user, pk))

    @doc(
        summary="Give the overall judgement and/or mark complete or reopen (mine; the consensus: editor, owner). "
        "Send the version you read",
        request=RobAssessmentChangeSerializer,
        responses={200: RobAssessmentSerializer, **ASSESSMENT_ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        assessment = readable(review, request.user, pk)
        body = RobAssessmentChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():  # overall and status together, or neither
            version = data["version"]
            if "overall" in data:
                saved = services.overall_save(
                    user=request.user, review_id=review.pk, assessment_id=assessment.pk, version=version,
                    overall=data["overall"], reason=data.get("overall_override_reason", ""),
                )  # fmt: skip
                version = saved.version
            if "status" in data:
                services.assessment_set_status(
                    user=request.user, review_id=review.pk, assessment_id=assessment.pk, version=version,
                    status=data["status"],
                )  # fmt: skip
        return Response(serialize_assessment(review, request.user, pk))


DOMAIN_PARAMETER = OpenApiParameter(
    "domain",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="RoB 2: D1–D5 (and DS for a crossover trial); ROBINS-I: D1–D7; RoB 1: random_sequence, "
    "allocation_concealment, blinding_participants, blinding_outcome, incomplete_outcome, selective_reporting, "
    "other. Another is 400 under `domain`.",
)


class RobJudgementView(APIView):
    @doc(
        summary="Save one domain's judgement (mine; the consensus: editor, owner): the whole judgement, what is "
        "not sent is emptied. RoB 2 proposes from the answers; a judgement other than the proposal needs a reason",
        parameters=[DOMAIN_PARAMETER],
        request=RobJudgementSaveSerializer,
        responses={200: RobAssessmentSerializer, **ASSESSMENT_ERRORS},
    )
    def put(self, request: Request, review_pk: int, pk: int, domain: str) -> Response:
        return self.save(request, review_pk, pk, domain, partial=False)

    @doc(
        summary="Change one domain's judgement (mine; the consensus: editor, owner): what is not sent stays "
        "(a judgement that followed the RoB 2 proposal follows the new answers' proposal)",
        parameters=[DOMAIN_PARAMETER],
        request=RobJudgementSaveSerializer,
        responses={200: RobAssessmentSerializer, **ASSESSMENT_ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int, domain: str) -> Response:
        return self.save(request, review_pk, pk, domain, partial=True)

    def save(self, request: Request, review_pk: int, pk: int, domain: str, *, partial: bool) -> Response:
        review = member_review(request, review_pk)
        assessment = readable(review, request.user, pk)
        body = RobJudgementSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if partial:
            saved = next((j for j in assessment.judgements.all() if j.domain == domain), None)
            data = merged_with_saved(saved, data)
        services.judgement_save(
            user=request.user, review_id=review.pk, assessment_id=assessment.pk, version=data["version"],
            domain=domain, answers=data.get("answers"), judgement=data.get("judgement") or None,
            override_reason=data.get("override_reason", ""), support=data.get("support", ""),
        )  # fmt: skip
        return Response(serialize_assessment(review, request.user, pk))


class RobAssessmentHistoryView(APIView):
    pagination_class = Pagination

    @doc(
        summary="Every change of the assessment's domain judgements and overall judgement, newest first: who, "
        "when, from what to what",
        responses={200: RobJudgementChangeSerializer(many=True), **ASSESSMENT_ERRORS},
    )
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        changes = selectors.judgement_history(assessment=readable(review, request.user, pk))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(changes, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(RobJudgementChangeSerializer(page, many=True).data)


class RobConsensusView(APIView):
    @doc(
        summary="Start the consensus assessment of a study (or outcome) with the review's tool (editor, owner); "
        "201 when started now, 200 when it existed (the worker starts it once both assessors complete)",
        request=RobConsensusStartSerializer,
        responses={200: RobAssessmentSerializer, 201: RobAssessmentSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = RobConsensusStartSerializer(data=request.data, review=review)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        started = timezone.now()
        consensus = services.consensus_start(
            user=request.user, review_id=review.pk, study_id=data["study"].pk,
            outcome_id=data["outcome"].pk if data.get("outcome") else None,
        )  # fmt: skip
        return Response(
            serialize_assessment(review, request.user, consensus.pk), status=created_or_found(consensus, started)
        )


# --- discrepancies --------------------------------------------------------------------------------------------


class RobDiscrepancyListView(APIView):
    pagination_class = Pagination

    @doc(
        summary="Where the assessors' final judgements differ (editor, owner; reviewers only when not blinded)",
        parameters=[RobDiscrepancyFilterSerializer],
        responses={200: RobDiscrepancySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        if not selectors.sees_all(review):
            raise PermissionDenied("While assessment is blinded, the discrepancies are for editors and owners.")
        query = RobDiscrepancyFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.discrepancy_search(
            review=review, status=query.validated_data.get("status", ""), study_id=query.validated_data.get("study")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(found, request, view=self)
        return paginator.get_paginated_response(RobDiscrepancySerializer(page, many=True).data)


class RobDiscrepancyResolveView(APIView):
    @doc(
        summary="Resolve a discrepancy with an assessor's judgement or one of your own; the consensus gets it "
        "(editor, owner)",
        request=RobDiscrepancyResolveSerializer,
        responses={200: RobDiscrepancySerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        selectors.discrepancy_get(review=review, discrepancy_id=pk)  # 404 for an id from elsewhere, whatever the body
        body = RobDiscrepancyResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resolved = services.discrepancy_resolve(
            user=request.user, review_id=review.pk, discrepancy_id=pk, take=body.validated_data.get("take", ""),
            judgement=body.validated_data.get("judgement", ""), note=body.validated_data.get("note", ""),
        )  # fmt: skip
        return Response(
            RobDiscrepancySerializer(selectors.discrepancy_get(review=review, discrepancy_id=resolved.pk)).data
        )
