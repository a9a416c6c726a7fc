"""The guard triggers of 0002, each check in one query instead of two or three (the
same rules; a payment on a hot account spends most of its database time in them)."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION finance_transaction_balanced() RETURNS trigger AS $$
DECLARE
    checked text := current_setting('finance.checked_' || NEW.transaction_id, true);
    row record;
    highest bigint := 0;
BEGIN
    IF checked IS NOT NULL AND checked <> '' AND NEW.id <= checked::bigint THEN
        RETURN NULL;
    END IF;
    FOR row IN
        SELECT e.currency, SUM(e.amount) AS total, MAX(e.id) AS last_id,
               bool_or(a.currency <> e.currency) AS foreign_currency
          FROM finance_entry e JOIN finance_account a ON a.id = e.account_id
         WHERE e.transaction_id = NEW.transaction_id
         GROUP BY e.currency
    LOOP
        IF row.total <> 0 THEN
            RAISE EXCEPTION 'finance: transaction % does not balance: its % entries sum to %',
                NEW.transaction_id, row.currency, row.total USING ERRCODE = 'check_violation';
        END IF;
        IF row.foreign_currency THEN
            RAISE EXCEPTION 'finance: transaction % has an entry in another currency than its account',
                NEW.transaction_id USING ERRCODE = 'check_violation';
        END IF;
        highest := GREATEST(highest, row.last_id);
    END LOOP;
    PERFORM set_config('finance.checked_' || NEW.transaction_id, highest::text, true);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finance_entry_chain() RETURNS trigger AS $$
DECLARE
    account_kind text;
    previous numeric;
BEGIN
    SELECT a.kind,
           (SELECT e.balance_after FROM finance_entry e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1)
      INTO account_kind, previous
      FROM finance_account a WHERE a.id = NEW.account_id;
    IF account_kind <> 'balance' THEN
        RETURN NEW;
    END IF;
    IF NEW.balance_after IS NULL OR NEW.balance_after <> COALESCE(previous, 0) + NEW.amount THEN
        RAISE EXCEPTION 'finance: entry on balance account % says balance % after %, but % + % = %',
            NEW.account_id, NEW.balance_after, NEW.amount, COALESCE(previous, 0), NEW.amount,
            COALESCE(previous, 0) + NEW.amount USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finance_account_cache() RETURNS trigger AS $$
DECLARE
    current_balance numeric;
    current_kind text;
    latest numeric;
BEGIN
    SELECT a.balance, a.kind,
           (SELECT e.balance_after FROM finance_entry e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1)
      INTO current_balance, current_kind, latest
      FROM finance_account a WHERE a.id = NEW.id;
    IF current_kind = 'balance' AND current_balance <> COALESCE(latest, 0) THEN
        RAISE EXCEPTION 'finance: account % caches balance % but its entries end at %',
            NEW.id, current_balance, COALESCE(latest, 0) USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_post_function")]

    # Going back keeps these (they check the same rules as 0002's).
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
