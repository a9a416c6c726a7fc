"""finance_post(): a whole posting in one statement on PostgreSQL (finance/ledger.py calls it).

The Python code checks the legs (Decimal, precision, zero sum per currency) and hashes
the request; this function does the part that needs the rows, under their locks, in
one round trip instead of eight: lock the balance accounts the legs touch (primary-key
order), answer a known idempotency key (same hash: the first transaction; another hash:
a conflict), refuse a balance that would go below zero (with the shortfall), insert the
transaction and its entries with the balance after each, update the cached balances.
The guard triggers of migration 0002 check all of it again.

It answers (status, transaction id, shortfall, account code, low balance): status is
'posted', 'replayed', 'conflict', 'short' or 'missing' (an account code that does not
exist yet: the caller opens the account and calls again); low balance says whether the
low-balance alert has something to do ('alert', 'release' or nothing), so the common
posting costs no second query for it.
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION finance_post(
    p_kind text, p_key text, p_hash text, p_distributor bigint, p_reference text, p_reverses bigint,
    p_memo text, p_fx_rate numeric, p_fx_amount numeric, p_fx_currency text, p_actor integer,
    p_codes text[], p_amounts numeric[], p_refs text[]
) RETURNS TABLE (status text, transaction_id bigint, shortfall numeric, account_code text, low_balance text) AS $$
DECLARE
    v_found record;
    v_missing text;
    v_short record;
    v_id bigint;
BEGIN
    PERFORM 1 FROM finance_account
     WHERE code = ANY(p_codes) AND kind = 'balance' ORDER BY id FOR UPDATE;

    SELECT t.id, t.request_hash INTO v_found FROM finance_transaction t WHERE t.idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT CASE WHEN v_found.request_hash = p_hash THEN 'replayed' ELSE 'conflict' END,
                            v_found.id, NULL::numeric, NULL::text, NULL::text;
        RETURN;
    END IF;

    SELECT c.code INTO v_missing FROM unnest(p_codes) AS c(code)
     WHERE NOT EXISTS (SELECT 1 FROM finance_account a WHERE a.code = c.code) LIMIT 1;
    IF v_missing IS NOT NULL THEN
        RETURN QUERY SELECT 'missing'::text, NULL::bigint, NULL::numeric, v_missing, NULL::text;
        RETURN;
    END IF;

    SELECT a.code, -(a.balance + d.delta) AS short INTO v_short
      FROM (SELECT l.code, SUM(l.amount) AS delta FROM unnest(p_codes, p_amounts) AS l(code, amount)
             GROUP BY l.code) d
      JOIN finance_account a ON a.code = d.code AND a.kind = 'balance'
     WHERE a.balance + d.delta < 0 LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'short'::text, NULL::bigint, v_short.short::numeric, v_short.code::text, NULL::text;
        RETURN;
    END IF;

    INSERT INTO finance_transaction (kind, idempotency_key, request_hash, distributor_id, reference, reverses_id,
                                     memo, fx_rate, fx_source_amount, fx_source_currency, created_by_id, created_at)
    VALUES (p_kind, p_key, p_hash, p_distributor, p_reference, p_reverses, p_memo, p_fx_rate, p_fx_amount,
            COALESCE(p_fx_currency, ''), p_actor, now())
    RETURNING id INTO v_id;

    INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference, balance_after)
    SELECT v_id, a.id, a.currency, l.amount, l.reference,
           CASE WHEN a.kind = 'balance'
                THEN a.balance + SUM(l.amount) OVER (PARTITION BY a.id ORDER BY l.n) END
      FROM unnest(p_codes, p_amounts, p_refs) WITH ORDINALITY AS l(code, amount, reference, n)
      JOIN finance_account a ON a.code = l.code
     ORDER BY l.n;

    UPDATE finance_account a SET balance = a.balance + d.delta
      FROM (SELECT l.code, SUM(l.amount) AS delta FROM unnest(p_codes, p_amounts) AS l(code, amount)
             GROUP BY l.code) d
     WHERE a.code = d.code AND a.kind = 'balance' AND d.delta <> 0;

    -- Whether the low-balance alert must look at this distributor now (finance/low_balance.py):
    -- 'alert' when the balance fell below an armed threshold, 'release' when it is back above
    -- a threshold that has alerted; most distributors have no threshold and nothing to do.
    RETURN QUERY
        SELECT 'posted'::text, v_id, NULL::numeric, NULL::text,
               (SELECT CASE
                         WHEN p.low_balance_threshold > 0 AND p.low_balance_notified_at IS NULL
                              AND a.balance < p.low_balance_threshold THEN 'alert'
                         WHEN p.low_balance_notified_at IS NOT NULL AND a.balance >= p.low_balance_threshold
                              THEN 'release'
                       END
                  FROM finance_balancepreference p
                  JOIN finance_account a ON a.distributor_id = p.distributor_id AND a.kind = 'balance'
                                         AND a.currency = 'USD'
                 WHERE p.distributor_id = p_distributor);
END $$ LANGUAGE plpgsql;
"""

REVERSE = "DROP FUNCTION IF EXISTS finance_post(text, text, text, bigint, text, bigint, text, numeric, numeric, text, integer, text[], numeric[], text[]);"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_balance_preference")]

    operations = [migrations.RunPython(install, uninstall)]
