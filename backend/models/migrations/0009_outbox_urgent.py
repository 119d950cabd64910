from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_login_attempt_budget')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='urgent',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['sent_at', 'urgent', 'next_attempt_at']),
        ),
    ]
