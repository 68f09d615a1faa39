from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from diplomacy import views

# The admin login goes through allauth: MFA and rate limits apply there too. Replacing the
# default site's bound method is allauth's documented way; a type checker sees a method assigned.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Content calendar administration"

urlpatterns = [
    path("health/", views.health, name="health"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("accounts/invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("network/", views.network, name="network"),
    path("network/posts/new/", views.post_create, name="post_create"),
    path("network/posts/<slug:code>/", views.post_detail, name="post_detail"),
    path("network/posts/<slug:code>/edit/", views.post_edit, name="post_edit"),
    path("network/posts/<slug:code>/channels/new/", views.channel_create, name="channel_create"),
    path("network/channels/<int:channel_id>/edit/", views.channel_edit, name="channel_edit"),
    path("network/import/", views.network_import, name="network_import"),
    path("network/platforms/", views.platform_defaults, name="platform_defaults"),
    path("network/invitations/", views.invitation_list, name="invitation_list"),
    path(
        "network/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("", include("calendar_app.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
