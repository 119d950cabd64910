from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_session_passkey')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ActivationCode',
            index=Index(fields=['record_id']),
        ),
    ]
