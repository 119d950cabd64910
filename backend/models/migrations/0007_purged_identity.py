from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_record_pending_phone')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PurgedIdentity',
            fields=[
                ('ins_mac', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('purged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'purged_identity', 'app': 'models', 'pk_attr': 'ins_mac', 'table_description': "An INS whose record was purged (deleted at the patient's request, or closed for ten"},
            bases=['Model'],
        ),
    ]
