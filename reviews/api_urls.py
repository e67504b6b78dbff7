from django.urls import path

from reviews.api import ActivityView, MembershipViewSet, ReviewViewSet
from reviews.api_records import DuplicateGroupViewSet, ImportViewSet, RecordViewSet

review_list = ReviewViewSet.as_view({"get": "list", "post": "create"})
review_detail = ReviewViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
member_list = MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = MembershipViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("reviews/", review_list, name="api-review-list"),
    path("reviews/<int:pk>/", review_detail, name="api-review-detail"),
    path("reviews/<int:review_pk>/members/", member_list, name="api-member-list"),
    path("reviews/<int:review_pk>/members/<int:pk>/", member_detail, name="api-member-detail"),
    path("reviews/<int:review_pk>/activity/", ActivityView.as_view(), name="api-activity-list"),
    path(
        "reviews/<int:review_pk>/imports/",
        ImportViewSet.as_view({"get": "list", "post": "create"}),
        name="api-import-list",
    ),
    path(
        "reviews/<int:review_pk>/imports/<int:pk>/",
        ImportViewSet.as_view({"get": "retrieve"}),
        name="api-import-detail",
    ),
    path("reviews/<int:review_pk>/records/", RecordViewSet.as_view({"get": "list"}), name="api-record-list"),
    path(
        "reviews/<int:review_pk>/records/<int:pk>/",
        RecordViewSet.as_view({"get": "retrieve"}),
        name="api-record-detail",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/", DuplicateGroupViewSet.as_view({"get": "list"}), name="api-duplicate-list"
    ),
    path(
        "reviews/<int:review_pk>/duplicates/merge/",
        DuplicateGroupViewSet.as_view({"post": "merge"}),
        name="api-duplicate-merge",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/<int:pk>/",
        DuplicateGroupViewSet.as_view({"get": "retrieve"}),
        name="api-duplicate-detail",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/<int:pk>/split/",
        DuplicateGroupViewSet.as_view({"post": "split"}),
        name="api-duplicate-split",
    ),
]
