from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from reviews.models import Membership, Review


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    list_display = ["title", "created_by", "created_at", "updated_at"]
    search_fields = ["title"]
    inlines = [MembershipInline]
    readonly_fields = ["created_at", "updated_at", "version"]
    fields = [
        "title",
        "objectives",
        "population",
        "intervention",
        "comparator",
        "outcomes",
        "eligibility_criteria",
        "created_by",
        "created_at",
        "updated_at",
        "version",
    ]
