"""`field__any_of=values`: membership in a long list of values, sent as one parameter.

`field__in=[...]` writes one placeholder per value and prepares each value through the
field in Python: for the five thousand SKUs or Item IDs of a chunk of a batch import that
is most of the query's cost, and PostgreSQL then parses as many parameters. `any_of`
sends the list as one array on PostgreSQL (`col = ANY(%s)`, which uses the column's index
as IN does) and as one JSON text elsewhere (`col IN (SELECT value FROM json_each(%s))`
on SQLite). The values must already be of the column's type (str for text columns, int
for keys): nothing is converted.
"""

import json

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, (values,) = self.process_rhs(compiler, connection)
        # lhs is the column as the compiler quotes it; the values go as a parameter
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]  # noqa: S608
