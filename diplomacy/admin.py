from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from diplomacy.models import Channel, Invitation, Membership, Partner, PlatformDefault, Post, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["post", "partner"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name", "language"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city", "country", "timezone", "active"]
    list_filter = ["kind", "active", "country"]
    search_fields = ["code", "name", "city"]
    inlines = [ChannelInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["handle", "platform", "post", "language_plan", "weekly_target", "active"]
    list_filter = ["platform", "language_plan", "active"]
    search_fields = ["handle", "post__name", "post__code"]
    list_select_related = ["post"]
    autocomplete_fields = ["post"]


@admin.register(PlatformDefault)
class PlatformDefaultAdmin(admin.ModelAdmin):
    """Central's plan for new channels per platform (also on the network's "Platform defaults" page)."""

    list_display = ["platform", "language_plan", "separator", "updated_at"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "focus"]
    list_filter = ["region", "focus"]
    search_fields = ["code", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "post", "partner", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "post__name", "partner__name"]
    list_select_related = ["user", "post", "partner"]
    autocomplete_fields = ["user", "post", "partner"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "post", "partner", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email"]
    readonly_fields = ["token_hash", "accepted_at", "accepted_by", "invited_by"]
    list_select_related = ["post", "partner"]
