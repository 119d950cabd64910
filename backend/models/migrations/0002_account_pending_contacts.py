from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='pending_email',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='Account',
            name='pending_phone',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
