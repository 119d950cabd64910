from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_record_audit_epoch')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Record',
            name='pending_phone',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
