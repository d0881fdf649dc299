-- Accounts (`sources:` in the configuration; without it, one account per
-- kind named `pagerduty` and `jira`). Every figure can be restricted to one
-- account by its name (docs/metrics.md §13): NULL means all of them.

-- The accounts the database holds, for pickers (the dashboards' `source`
-- variable, the plugin pages): no URL, no credential.
CREATE VIEW lens.accounts AS
SELECT s.name, s.kind FROM public.sources s;

-- The id of the account named `account`; NULL for NULL (every account).
-- An unknown name is an error that lists the known ones, so that a typo
-- never reads as an account without incidents.
CREATE FUNCTION lens.account_id(account text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  named integer;
BEGIN
  IF account IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT s.id INTO named FROM public.sources s WHERE s.name = account;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown source %: the accounts are %', quote_literal(account),
      coalesce((SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM public.sources s), 'none yet (nothing synced)')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN named;
END $$;

-- The account a report covers, {"name", "kind"}; null for NULL (every
-- account). Called by every report, so an unknown name is refused even for
-- a period without incidents.
CREATE FUNCTION lens.account_json(account text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  named integer := lens.account_id(account);
BEGIN
  RETURN (SELECT jsonb_build_object('name', s.name, 'kind', s.kind) FROM public.sources s WHERE s.id = named);
END $$;
