"""REST API of the review's outcomes and comparisons (members read; editors and owners write). Every study's
outcome data names one comparison (group 1 is its intervention) and one outcome."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from extraction import selectors
from extraction.api import VERSION_HELP, doc, member_review, version_and_changes
from extraction.models import Comparison, Outcome
from extraction.services import studies as study_services
from reviews.api import ERRORS
from reviews.models import Membership

Role = Membership.Role


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["id", "name", "type", "direction", "unit", "timepoint", "position", "version"]
        read_only_fields = ["id", "version"]


@extend_schema_serializer(component_name="Outcome")  # documented as PatchedOutcomeRequest
class OutcomeChangeSerializer(OutcomeSerializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)

    class Meta(OutcomeSerializer.Meta):
        read_only_fields = ["id"]
        extra_kwargs = {name: {"required": False} for name in ("name", "type", "direction", "unit", "timepoint")}


class ComparisonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comparison
        fields = ["id", "name", "intervention", "control", "position", "version"]
        read_only_fields = ["id", "version"]


@extend_schema_serializer(component_name="Comparison")  # documented as PatchedComparisonRequest
class ComparisonChangeSerializer(ComparisonSerializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)

    class Meta(ComparisonSerializer.Meta):
        read_only_fields = ["id"]
        extra_kwargs = {name: {"required": False} for name in ("name", "intervention", "control")}


class OutcomeListView(APIView):
    @doc(summary="The review's outcomes (members)", responses={200: OutcomeSerializer(many=True), **ERRORS})
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(OutcomeSerializer(selectors.outcome_list(review=review), many=True).data)

    @doc(
        summary="Add an outcome (editor, owner)",
        request=OutcomeSerializer,
        responses={201: OutcomeSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = study_services.outcome_create(user=request.user, review_id=review.pk, **body.validated_data)
        return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)


class OutcomeDetailView(APIView):
    @doc(summary="One outcome", responses={200: OutcomeSerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(OutcomeSerializer(selectors.outcome_get(review=review, outcome_id=pk)).data)

    @doc(
        summary="Change an outcome (editor, owner; its type is fixed once it has data; send the version you read)",
        request=OutcomeChangeSerializer,
        responses={200: OutcomeSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = OutcomeChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, fields = version_and_changes(body.validated_data)
        outcome = study_services.outcome_update(
            user=request.user, review_id=review.pk, outcome_id=pk, version=version, **fields
        )
        return Response(OutcomeSerializer(outcome).data)

    @doc(
        summary="Delete an outcome without data (editor, owner; 409 once it has data)", responses={204: None, **ERRORS}
    )
    def delete(self, request: Request, review_pk: int, pk: int) -> Response:
        study_services.outcome_delete(user=request.user, review_id=review_pk, outcome_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ComparisonListView(APIView):
    @doc(
        summary="The review's comparisons (members); group 1 of every outcome's data is the intervention",
        responses={200: ComparisonSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(ComparisonSerializer(selectors.comparison_list(review=review), many=True).data)

    @doc(
        summary="Add a comparison (editor, owner)",
        request=ComparisonSerializer,
        responses={201: ComparisonSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = ComparisonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comparison = study_services.comparison_create(user=request.user, review_id=review.pk, **body.validated_data)
        return Response(ComparisonSerializer(comparison).data, status=status.HTTP_201_CREATED)


class ComparisonDetailView(APIView):
    @doc(summary="One comparison", responses={200: ComparisonSerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(ComparisonSerializer(selectors.comparison_get(review=review, comparison_id=pk)).data)

    @doc(
        summary="Change a comparison (editor, owner; send the version you read)",
        request=ComparisonChangeSerializer,
        responses={200: ComparisonSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = ComparisonChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, fields = version_and_changes(body.validated_data)
        comparison = study_services.comparison_update(
            user=request.user, review_id=review.pk, comparison_id=pk, version=version, **fields
        )
        return Response(ComparisonSerializer(comparison).data)

    @doc(
        summary="Delete a comparison without data (editor, owner; 409 once it has data)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, pk: int) -> Response:
        study_services.comparison_delete(user=request.user, review_id=review_pk, comparison_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
