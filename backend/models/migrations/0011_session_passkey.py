from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_nfc_emails')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Session',
            name='passkey_id',
            field=fields.UUIDField(null=True),
        ),
    ]
