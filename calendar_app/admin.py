from django.contrib import admin

from calendar_app.models import (
    Asset,
    CalendarFeed,
    Campaign,
    Proposal,
    Publication,
    PublicationEvent,
    Variant,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "partner", "colour"]
    list_filter = ["partner"]
    search_fields = ["name", "hashtags"]
    filter_horizontal = ["target_posts"]


class VariantInline(admin.StackedInline):
    model = Variant
    extra = 0


class EventInline(admin.TabularInline):
    """The history is append-only: shown, never edited."""

    model = PublicationEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "created_at",
        "actor",
        "verb",
        "from_status",
        "to_status",
        "comment",
        "revision",
        "data",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ["title", "post", "status", "kind", "scheduled_at", "author"]
    list_filter = ["status", "kind", "campaign"]
    search_fields = ["title", "post__name", "post__code"]
    list_select_related = ["post", "author"]
    date_hierarchy = "scheduled_at"
    raw_id_fields = ["post", "author", "campaign", "proposal"]
    filter_horizontal = ["channels", "assets"]
    readonly_fields = ["scheduled_at", "revision", "status"]
    inlines = [VariantInline, EventInline]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["pk", "owner", "post", "width", "height", "created_at"]
    raw_id_fields = ["owner", "post"]
    readonly_fields = ["checksum", "width", "height", "renditions", "content_type"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["title", "partner", "status", "created_at"]
    list_filter = ["status", "partner"]
    search_fields = ["title"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    readonly_fields = ["token"]
