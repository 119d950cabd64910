from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_account_pending_contacts')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AccessEvent',
            index=Index(fields=['record_id', 'actor_id']),
        ),
    ]
