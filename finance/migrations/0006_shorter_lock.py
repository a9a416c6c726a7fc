"""A posting holds its balance accounts' row locks for less time (a payment on a hot
account waits on exactly that lock), with the same rules and the same answers:

- finance_post() takes the balance account's row lock last, by the UPDATE of its cached
  balance, which refuses a balance below zero in its own WHERE; only the entries are
  written after it. Everything else comes before: a known idempotency key, an account
  that does not exist yet, a balance that plainly does not cover the posting, the
  low-balance preference, and the transaction row. Two requests racing with one new key
  both pass the first read; the second one's insert waits for the first and finds the
  key taken (ON CONFLICT DO NOTHING), and answers as a replay or a conflict. A balance
  that a concurrent posting emptied between the first read and the UPDATE makes the
  function raise (SQLSTATE LDG01), which undoes the whole statement; finance/ledger.py
  asks again and gets 'short'.
- The zero-sum trigger remembered which ledger transactions it had checked in one
  setting per transaction id (`finance.checked_<id>`); every posting created a new
  setting that lived as long as the database session, so each posting made the next
  ones slower. One setting, `finance.balanced`, now holds the transaction and entry
  last checked. The rule is unchanged: at commit every ledger transaction's entries
  sum to zero in each currency and each entry is in its account's currency.
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION finance_transaction_balanced() RETURNS trigger AS $$
DECLARE
    checked text := current_setting('finance.balanced', true);
    row record;
    highest bigint := 0;
BEGIN
    -- Checked already in this database transaction, with every entry up to this one.
    IF checked IS NOT NULL AND checked <> ''
       AND split_part(checked, ':', 1)::bigint = NEW.transaction_id
       AND NEW.id <= split_part(checked, ':', 2)::bigint THEN
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
    PERFORM set_config('finance.balanced', NEW.transaction_id || ':' || highest, true);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finance_post(
    p_kind text, p_key text, p_hash text, p_distributor bigint, p_reference text, p_reverses bigint,
    p_memo text, p_fx_rate numeric, p_fx_amount numeric, p_fx_currency text, p_actor integer,
    p_codes text[], p_amounts numeric[], p_refs text[]
) RETURNS TABLE (status text, transaction_id bigint, shortfall numeric, account_code text, low_balance text) AS $$
DECLARE
    v_found record;
    v_missing text;
    v_short record;
    v_pref record;
    v_id bigint;
    v_after numeric;
    v_balances int;
    v_wanted int;
    v_moved int;
BEGIN
    -- Before any lock: a replay, an account to open, the low-balance preference, and a
    -- balance that plainly does not cover the posting (read as last committed).
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
    SELECT p.low_balance_threshold, p.low_balance_notified_at INTO v_pref
      FROM finance_balancepreference p WHERE p.distributor_id = p_distributor;

    INSERT INTO finance_transaction (kind, idempotency_key, request_hash, distributor_id, reference, reverses_id,
                                     memo, fx_rate, fx_source_amount, fx_source_currency, created_by_id, created_at)
    VALUES (p_kind, p_key, p_hash, p_distributor, p_reference, p_reverses, p_memo, p_fx_rate, p_fx_amount,
            COALESCE(p_fx_currency, ''), p_actor, now())
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        -- Posted meanwhile by a request with the same key (the insert waited for it).
        SELECT t.id, t.request_hash INTO v_found FROM finance_transaction t WHERE t.idempotency_key = p_key;
        RETURN QUERY SELECT CASE WHEN v_found.request_hash = p_hash THEN 'replayed' ELSE 'conflict' END,
                            v_found.id, NULL::numeric, NULL::text, NULL::text;
        RETURN;
    END IF;

    -- The lock, taken as late as it can be: the balance account's row, by the UPDATE
    -- itself (several balance accounts, or one the posting does not move, are locked first,
    -- in primary-key order, so two postings never wait on each other in a cycle). A balance the posting would take below
    -- zero after all (a concurrent posting got there first) is refused by raising, which
    -- undoes this whole statement; the caller asks again and is answered 'short'.
    WITH d AS (SELECT l.code, SUM(l.amount) AS delta FROM unnest(p_codes, p_amounts) AS l(code, amount)
                GROUP BY l.code)
    SELECT count(*), count(*) FILTER (WHERE d.delta <> 0) INTO v_balances, v_wanted
      FROM d JOIN finance_account a ON a.code = d.code WHERE a.kind = 'balance';
    IF v_balances > 1 OR v_wanted < v_balances THEN
        PERFORM 1 FROM finance_account
         WHERE code = ANY(p_codes) AND kind = 'balance' ORDER BY id FOR UPDATE;
    END IF;
    UPDATE finance_account a SET balance = a.balance + d.delta
      FROM (SELECT l.code, SUM(l.amount) AS delta FROM unnest(p_codes, p_amounts) AS l(code, amount)
             GROUP BY l.code) d
     WHERE a.code = d.code AND a.kind = 'balance' AND d.delta <> 0 AND a.balance + d.delta >= 0;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved < v_wanted THEN
        RAISE EXCEPTION 'finance: a balance would go below zero; ask again' USING ERRCODE = 'LDG01';
    END IF;

    -- The entries, each balance entry with the balance after it (from the balance before
    -- this posting: the updated one minus what this posting moves).
    INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference, balance_after)
    SELECT v_id, a.id, a.currency, l.amount, l.reference,
           CASE WHEN a.kind = 'balance'
                THEN a.balance - SUM(l.amount) OVER (PARTITION BY a.id)
                     + SUM(l.amount) OVER (PARTITION BY a.id ORDER BY l.n) END
      FROM unnest(p_codes, p_amounts, p_refs) WITH ORDINALITY AS l(code, amount, reference, n)
      JOIN finance_account a ON a.code = l.code
     ORDER BY l.n;

    SELECT a.balance INTO v_after FROM finance_account a
     WHERE a.distributor_id = p_distributor AND a.kind = 'balance' AND a.currency = 'USD'
       AND a.code = ANY(p_codes);

    -- Whether the low-balance alert must look at this distributor now (finance/low_balance.py):
    -- 'alert' when the balance fell below an armed threshold, 'release' when it is back above
    -- a threshold that has alerted; most distributors have no threshold and nothing to do.
    RETURN QUERY SELECT 'posted'::text, v_id, NULL::numeric, NULL::text,
        CASE
            WHEN v_after IS NULL OR v_pref IS NULL THEN NULL
            WHEN v_pref.low_balance_threshold > 0 AND v_pref.low_balance_notified_at IS NULL
                 AND v_after < v_pref.low_balance_threshold THEN 'alert'
            WHEN v_pref.low_balance_notified_at IS NOT NULL AND v_after >= v_pref.low_balance_threshold
                 THEN 'release'
        END;
END $$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("finance", "0005_leaner_guards")]

    # Going back keeps these (the same rules and answers as 0004's and 0005's).
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
