"""The database guards the ledger itself (PostgreSQL; other databases rely on the code
and on check_ledger):

- entries and transactions are append-only: any UPDATE or DELETE is refused;
- an account's identity (code, kind, currency, distributor) never changes and an
  account is never deleted;
- at commit, every ledger transaction's entries sum to zero in each currency and each
  entry is in its account's currency (a deferred constraint trigger; it checks each
  ledger transaction once, remembering the highest entry id it has checked, so a batch
  of a thousand entries costs one aggregate, not a thousand);
- a balance account's entries form a chain: each entry's balance_after is the previous
  one's plus its amount, and at commit the account's cached balance equals its latest
  entry's balance_after.

TRUNCATE is left to administrators (and to the test runner's flush).
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION finance_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'finance: % on % is refused: the ledger is append-only; post a reversing transaction',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER finance_entry_append_only BEFORE UPDATE OR DELETE ON finance_entry
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
CREATE TRIGGER finance_transaction_append_only BEFORE UPDATE OR DELETE ON finance_transaction
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
CREATE TRIGGER finance_account_never_deleted BEFORE DELETE ON finance_account
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();

CREATE OR REPLACE FUNCTION finance_account_identity() RETURNS trigger AS $$
BEGIN
    IF NEW.code <> OLD.code OR NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency
       OR NEW.distributor_id IS DISTINCT FROM OLD.distributor_id THEN
        RAISE EXCEPTION 'finance: account % cannot change its code, kind, currency or owner', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER finance_account_identity BEFORE UPDATE ON finance_account
    FOR EACH ROW EXECUTE FUNCTION finance_account_identity();

CREATE OR REPLACE FUNCTION finance_transaction_balanced() RETURNS trigger AS $$
DECLARE
    checked text := current_setting('finance.checked_' || NEW.transaction_id, true);
    unbalanced record;
    highest bigint;
BEGIN
    IF checked IS NOT NULL AND checked <> '' AND NEW.id <= checked::bigint THEN
        RETURN NULL;
    END IF;
    SELECT e.currency, SUM(e.amount) AS total INTO unbalanced
      FROM finance_entry e WHERE e.transaction_id = NEW.transaction_id
      GROUP BY e.currency HAVING SUM(e.amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'finance: transaction % does not balance: its % entries sum to %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM finance_entry e JOIN finance_account a ON a.id = e.account_id
                WHERE e.transaction_id = NEW.transaction_id AND a.currency <> e.currency) THEN
        RAISE EXCEPTION 'finance: transaction % has an entry in another currency than its account',
            NEW.transaction_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT MAX(id) INTO highest FROM finance_entry WHERE transaction_id = NEW.transaction_id;
    PERFORM set_config('finance.checked_' || NEW.transaction_id, highest::text, true);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER finance_entry_balanced AFTER INSERT ON finance_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_transaction_balanced();

CREATE OR REPLACE FUNCTION finance_entry_chain() RETURNS trigger AS $$
DECLARE
    account_kind text;
    previous numeric;
BEGIN
    SELECT kind INTO account_kind FROM finance_account WHERE id = NEW.account_id;
    IF account_kind <> 'balance' THEN
        RETURN NEW;
    END IF;
    SELECT balance_after INTO previous FROM finance_entry
     WHERE account_id = NEW.account_id ORDER BY id DESC LIMIT 1;
    IF NEW.balance_after IS NULL OR NEW.balance_after <> COALESCE(previous, 0) + NEW.amount THEN
        RAISE EXCEPTION 'finance: entry on balance account % says balance % after %, but % + % = %',
            NEW.account_id, NEW.balance_after, NEW.amount, COALESCE(previous, 0), NEW.amount,
            COALESCE(previous, 0) + NEW.amount USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER finance_entry_chain BEFORE INSERT ON finance_entry
    FOR EACH ROW EXECUTE FUNCTION finance_entry_chain();

CREATE OR REPLACE FUNCTION finance_account_cache() RETURNS trigger AS $$
DECLARE
    latest numeric;
    current_balance numeric;
    current_kind text;
BEGIN
    SELECT balance, kind INTO current_balance, current_kind FROM finance_account WHERE id = NEW.id;
    IF current_kind <> 'balance' THEN
        RETURN NULL;
    END IF;
    SELECT balance_after INTO latest FROM finance_entry WHERE account_id = NEW.id ORDER BY id DESC LIMIT 1;
    IF current_balance <> COALESCE(latest, 0) THEN
        RAISE EXCEPTION 'finance: account % caches balance % but its entries end at %',
            NEW.id, current_balance, COALESCE(latest, 0) USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER finance_account_cache AFTER UPDATE OF balance ON finance_account
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_account_cache();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS finance_account_cache ON finance_account;
DROP TRIGGER IF EXISTS finance_entry_chain ON finance_entry;
DROP TRIGGER IF EXISTS finance_entry_balanced ON finance_entry;
DROP TRIGGER IF EXISTS finance_account_identity ON finance_account;
DROP TRIGGER IF EXISTS finance_account_never_deleted ON finance_account;
DROP TRIGGER IF EXISTS finance_transaction_append_only ON finance_transaction;
DROP TRIGGER IF EXISTS finance_entry_append_only ON finance_entry;
DROP FUNCTION IF EXISTS finance_account_cache();
DROP FUNCTION IF EXISTS finance_entry_chain();
DROP FUNCTION IF EXISTS finance_transaction_balanced();
DROP FUNCTION IF EXISTS finance_account_identity();
DROP FUNCTION IF EXISTS finance_refuse_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_ledger")]

    operations = [migrations.RunPython(install, uninstall)]
