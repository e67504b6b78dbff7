"""REST API for reviews and members. Authorization lives in the selectors and services, not here."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from reviews import audit, selectors, services
from reviews.models import AuditEvent, Membership, Review
from reviews.services import REVIEW_EDITABLE_FIELDS

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `detail` and the field errors under `errors`."),
    401: OpenApiResponse(description="Not logged in / no token."),
    403: OpenApiResponse(description="Your role in this review does not allow this."),
    404: OpenApiResponse(description="No such review, or you are not a member of it."),
    409: OpenApiResponse(description="Conflicts with the current state (stale version, last owner)."),
}


class ReviewSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    my_role = serializers.CharField(read_only=True, help_text="Your role in this review.")
    member_count = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(
        required=False,
        help_text="On PATCH, send the version you read: if someone saved since, you get 409, not an overwrite.",
    )

    class Meta:
        model = Review
        fields = [
            "id",
            *REVIEW_EDITABLE_FIELDS,
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "my_role",
            "member_count",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at", "my_role", "member_count"]


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(
        source="user.username",
        help_text="On POST, the username or e-mail address of the account to add.",
    )

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class MembershipRoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["role"]
        extra_kwargs = {"role": {"required": True}}  # the model's default would make `{}` a change to nothing


@extend_schema_view(
    list=extend_schema(summary="Reviews you are a member of", responses={200: ReviewSerializer(many=True)}),
    create=extend_schema(summary="Create a review (you become its owner)", responses={201: ReviewSerializer, **ERRORS}),
    retrieve=extend_schema(summary="One review", responses={200: ReviewSerializer, **ERRORS}),
    partial_update=extend_schema(summary="Change a review (owner)", responses={200: ReviewSerializer, **ERRORS}),
    destroy=extend_schema(summary="Delete a review and all it holds (owner)", responses={204: None, **ERRORS}),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReviewSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = [OrderingFilter]
    ordering_fields = ["title", "created_at", "updated_at"]

    def get_queryset(self) -> QuerySet[Review]:
        return selectors.review_list_for_user(user=self.request.user)

    def get_object(self, role: str = Membership.Role.REVIEWER) -> Review:
        review = selectors.review_get_for_user(user=self.request.user, review_id=self.kwargs["pk"], role=role)
        review.member_count = review.memberships.count()
        return review

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        review = services.review_create(user=request.user, **data)
        return Response(self._read(review.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object(role=Membership.Role.OWNER)
        serializer = self.get_serializer(review, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        services.review_update(user=request.user, review_id=review.pk, version=version, **data)
        return Response(self._read(review.pk))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object(role=Membership.Role.OWNER)
        services.review_delete(user=request.user, review_id=review.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _read(self, review_id: int) -> dict:
        review = selectors.review_get_for_user(user=self.request.user, review_id=review_id)
        review.member_count = review.memberships.count()
        return self.get_serializer(review).data


@extend_schema_view(
    list=extend_schema(summary="Members of a review", responses={200: MembershipSerializer(many=True), **ERRORS}),
    create=extend_schema(
        summary="Add a member by username or e-mail (owner)", responses={201: MembershipSerializer, **ERRORS}
    ),
    retrieve=extend_schema(summary="One member", responses={200: MembershipSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a member's role (owner)",
        request=MembershipRoleSerializer,
        responses={200: MembershipSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Remove a member (owner; not the last owner)", responses={204: None, **ERRORS}),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MembershipSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _review(self, role: str = Membership.Role.REVIEWER) -> Review:
        return selectors.review_get_for_user(user=self.request.user, review_id=self.kwargs["review_pk"], role=role)

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return selectors.membership_list(review=self._review())

    def get_object(self) -> Membership:
        return selectors.membership_get(review=self._review(), membership_id=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.OWNER)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(
            user=request.user,
            review_id=review.pk,
            identifier=serializer.validated_data["user"]["username"],
            role=serializer.validated_data.get("role", Membership.Role.REVIEWER),
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.OWNER)
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            user=request.user,
            review_id=review.pk,
            membership_id=int(self.kwargs["pk"]),
            role=serializer.validated_data["role"],
        )
        return Response(self.get_serializer(membership).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.OWNER)
        services.membership_remove(user=request.user, review_id=review.pk, membership_id=int(self.kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the audit trail (owners) ------------------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_name", read_only=True, help_text='Username of who made the change; "" for the system (worker).'
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "action", "subject", "object_type", "object_id", "label", "field",
                  "old_value", "new_value"]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        summary="The review's audit trail, newest first (owners): who changed which decision, resolution, "
        "extraction value, risk-of-bias judgement, certainty rating, membership or setting, when, from what to what",
        parameters=[
            OpenApiParameter("who", OpenApiTypes.STR, description='A username, or "system" for the worker.'),
            OpenApiParameter("what", OpenApiTypes.STR, enum=AuditEvent.Subject.values, description="One kind."),
        ],
        responses={200: AuditEventSerializer(many=True), **{code: ERRORS[code] for code in (401, 403, 404)}},
    )
)
class ActivityView(generics.ListAPIView):
    serializer_class = AuditEventSerializer

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        review = selectors.review_get_for_user(
            user=self.request.user, review_id=self.kwargs["review_pk"], role=Membership.Role.OWNER
        )
        params = self.request.query_params
        what = params.get("what", "")
        if what and what not in AuditEvent.Subject.values:
            raise serializers.ValidationError({"what": f"One of: {', '.join(AuditEvent.Subject.values)}."})
        return audit.event_list(review=review, who=params.get("who", ""), subject=what)
