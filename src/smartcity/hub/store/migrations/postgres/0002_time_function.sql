-- ngsi_time(text): a date-time in the store's normal form (UTC, microseconds, Z), NULL when it is not one.
-- Used by q comparisons of observedAt, createdAt, modifiedAt and date-time values inside documents.
CREATE FUNCTION ngsi_time(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN IF value IS NULL OR value !~ 'T.*([Zz]|[+-][0-9]{2}(:{0,1}[0-9]{2}){0,1})$' THEN RETURN NULL; END IF; RETURN to_char(value::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'); EXCEPTION WHEN others THEN RETURN NULL; END $$
