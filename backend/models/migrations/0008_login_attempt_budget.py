from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_purged_identity')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LoginAttempt',
            name='budget',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
