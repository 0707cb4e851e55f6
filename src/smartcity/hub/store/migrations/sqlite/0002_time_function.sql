-- SQLite gets ngsi_time() as a function registered on each connection (hub/store/sqlite.py); this migration
-- keeps the two engines' schema versions in step.
SELECT 1;
