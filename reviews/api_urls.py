from django.urls import path

from reviews.api import MembershipViewSet, ReviewViewSet

review_list = ReviewViewSet.as_view({"get": "list", "post": "create"})
review_detail = ReviewViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
member_list = MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = MembershipViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("reviews/", review_list, name="api-review-list"),
    path("reviews/<int:pk>/", review_detail, name="api-review-detail"),
    path("reviews/<int:review_pk>/members/", member_list, name="api-member-list"),
    path("reviews/<int:review_pk>/members/<int:pk>/", member_detail, name="api-member-detail"),
]
