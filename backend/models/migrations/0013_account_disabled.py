from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_activation_code_record_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='disabled_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
