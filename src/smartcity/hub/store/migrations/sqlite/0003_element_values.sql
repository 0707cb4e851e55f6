-- rows whose value is an array or a languageMap: q terms look inside them (any element matches)
CREATE INDEX attrs_elements ON attrs (name, entity_pk) WHERE vtype IN ('array', 'language');
