-- Stream positions come from transaction IDs now (docs/decisions.md D31,
-- storage/stream.h): a writer stamps its rows with xid * 65536 + 0, 1, ...,
-- and readers are bounded by the oldest running transaction. The single row
-- every writer locked until commit (stream_head, 0002, D11) goes.
--
-- Every position stamped so far must lie below every new one, or a token
-- handed out before the upgrade would skip new rows. Each old position was
-- claimed by a transaction of its own or shared one with a few others, so the
-- current transaction ID times 65536 is far past them; check rather than trust.
DO $$
DECLARE
  oldest_new bigint := pg_current_xact_id()::text::bigint * 65536;
  highest bigint;
BEGIN
  SELECT position INTO highest FROM stream_head;
  IF highest >= oldest_new THEN
    RAISE EXCEPTION 'stream position % is not below the first transaction-based one (%)',
      highest, oldest_new;
  END IF;
END
$$;

-- Nodes still running the old code fail their writes loudly instead of
-- stamping positions below the readers' bound.
DROP TABLE stream_head;
