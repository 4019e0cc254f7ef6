"""Migration operations for a database that must stay writable while it migrates."""

from typing import Any

from django.db import migrations


def _concurrently(schema_editor: Any) -> dict[str, bool]:
    """The keyword that makes PostgreSQL's schema editor build or drop an index without
    blocking writes; other databases' editors take no such keyword."""
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class AddIndexConcurrently(migrations.AddIndex):
    """`AddIndex` built with `CREATE INDEX CONCURRENTLY` on PostgreSQL, so writes to the
    table go on while the index builds (a plain build blocks them for as long as it takes:
    about a minute per few million feedback). Elsewhere a plain `AddIndex`.

    PostgreSQL cannot build concurrently inside a transaction: a migration using this sets
    `atomic = False`. If a build is interrupted it leaves an invalid index behind: drop it
    (`DROP INDEX CONCURRENTLY name`) and migrate again.
    """

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.index.name)
            schema_editor.remove_index(model, index, **_concurrently(schema_editor))


class DropFieldIndexConcurrently(migrations.operations.base.Operation):
    """Drop the single-column index of a field (what `db_index=True` made), concurrently on
    PostgreSQL. Pair it with the field's `AlterField(... db_index=False)` as state in a
    `SeparateDatabaseAndState`: run as a database operation, that `AlterField` also drops
    and re-adds the field's foreign-key constraint, and re-adding it checks every row while
    writes to the table wait."""

    reversible = True
    atomic = False

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name, self.name = model_name, name

    def deconstruct(self) -> tuple[str, list, dict]:
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the paired AlterField changes the state

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            column = model._meta.get_field(self.name).column
            for name in schema_editor._constraint_names(model, [column], index=True, unique=False):
                schema_editor.execute(schema_editor._delete_index_sql(model, name, **_concurrently(schema_editor)))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            field = model._meta.get_field(self.name)
            schema_editor.execute(
                schema_editor._create_index_sql(model, fields=[field], **_concurrently(schema_editor))
            )

    def describe(self) -> str:
        return f"Drop the index of {self.model_name}.{self.name}"
