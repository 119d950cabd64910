from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_access_event_actor_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PurgedRecord',
            fields=[
                ('record_id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('purged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seq', fields.IntField()),
                ('last_mac', fields.CharField(max_length=64)),
                ('mac', fields.CharField(max_length=64)),
            ],
            options={'table': 'purged_record', 'app': 'models', 'pk_attr': 'record_id', 'table_description': "What is left of a purged record's history: where its chain ended, sealed with the audit"},
            bases=['Model'],
        ),
    ]
