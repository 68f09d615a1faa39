"""The per-publication one-off jobs (`publish-<id>`) go: the dispatcher sends each publication
at its time, and a job left at a publication's old time was how a moved publication fired
early. The minute job `publish-due` (no number after the dash) stays as the safety net."""

from django.db import migrations

ONE_OFF_FUNC = "calendar_app.publishing.engine.publish_publication"


def remove_one_off_jobs(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=ONE_OFF_FUNC, name__regex=r"^publish-[0-9]+$").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0015_dispatcher_claims_and_heartbeats"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    # Nothing to put back: the dispatcher does what those jobs did.
    operations = [migrations.RunPython(remove_one_off_jobs, migrations.RunPython.noop)]
