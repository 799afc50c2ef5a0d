-- catalog.sql
--   Everything the catalog says about ptimport, one line per fact, sorted:
--   the extension, its schema, the tables, views and sequences with their
--   columns, defaults, constraints, indexes, policies, triggers and rules,
--   the functions and procedures with their whole definitions and settings,
--   collations and types, comments, ACLs and pg_init_privs.  Two databases
--   whose outputs are equal have the same ptimport, whatever the path that
--   built it (CREATE EXTENSION, ALTER EXTENSION UPDATE, a restore).  Nothing
--   here names a ptimport table or column: every object is found through
--   the schema or the extension's membership.  Sequence values, OIDs,
--   statistics and storage details are left out.
--
--   Run with psql -X -At; the TAP tests compare the lines of two databases.

SET search_path = pg_catalog;

WITH ext AS (
	SELECT e.oid, e.extnamespace AS nsp FROM pg_extension AS e WHERE e.extname = 'ptimport'
),
member AS (
	SELECT d.classid, d.objid
	FROM pg_depend AS d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
-- ptimport's relations: in its schema, or members of the extension.
rel AS (
	SELECT c.*
	FROM pg_class AS c, ext
	WHERE c.relnamespace = ext.nsp
	   OR c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
),
fn AS (
	SELECT p.*
	FROM pg_proc AS p, ext
	WHERE p.pronamespace = ext.nsp
	   OR p.oid IN (SELECT objid FROM member WHERE classid = 'pg_proc'::regclass)
),
typ AS (
	SELECT t.*
	FROM pg_type AS t, ext
	WHERE t.typnamespace = ext.nsp
	   OR t.oid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)
)

-- The extension, and which objects are its members.
SELECT format('extension: version %s, relocatable %s, schema %s, config %s, conditions %s, comment %L',
			  e.extversion, e.extrelocatable, e.extnamespace::regnamespace,
			  (SELECT array_agg(c::regclass::text ORDER BY ord) FROM unnest(e.extconfig) WITH ORDINALITY AS u(c, ord)),
			  e.extcondition, obj_description(e.oid, 'pg_extension'))
FROM pg_extension AS e, ext WHERE e.oid = ext.oid
UNION ALL
SELECT 'member: ' || pg_describe_object(classid, objid, 0) FROM member

-- The schema.
UNION ALL
SELECT format('schema %s: owner %s, acl %s, comment %L',
			  n.nspname, n.nspowner::regrole, n.nspacl, obj_description(n.oid, 'pg_namespace'))
FROM pg_namespace AS n, ext WHERE n.oid = ext.nsp
UNION ALL
SELECT format('default privileges in schema %s for %s on %s: %s',
			  a.defaclnamespace::regnamespace, a.defaclrole::regrole, a.defaclobjtype, a.defaclacl)
FROM pg_default_acl AS a, ext WHERE a.defaclnamespace = ext.nsp

-- Relations: tables, views, sequences, indexes, composite types.
UNION ALL
SELECT format('relation %s: kind %s, persistence %s, owner %s, options %s, acl %s, rls %s, force rls %s, replica identity %s, access method %s, comment %L',
			  c.oid::regclass, c.relkind, c.relpersistence, c.relowner::regrole, c.reloptions,
			  c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
			  (SELECT amname FROM pg_am WHERE oid = c.relam), obj_description(c.oid, 'pg_class'))
FROM rel AS c

-- Columns, in their order, with type, collation, default and identity.
-- (Some server builds store a pg_attver entry in every column's options,
-- with a value that differs between databases; it is no column setting.)
UNION ALL
SELECT format('column %s.%s: position %s, type %s, collation %s, not null %s, default %s, identity %L, generated %L, options %s, acl %s, comment %L',
			  c.oid::regclass, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
			  (SELECT quote_ident(l.collname) FROM pg_collation AS l WHERE l.oid = a.attcollation),
			  a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
			  (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) AS o
			   WHERE o NOT LIKE 'pg\_attver=%'),
			  a.attacl, col_description(c.oid, a.attnum))
FROM rel AS c
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
UNION ALL
SELECT format('relation %s: %s dropped columns', c.oid::regclass, count(*))
FROM rel AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attisdropped
GROUP BY c.oid

-- Constraints of tables and domains.
UNION ALL
SELECT format('constraint %s on %s: %s, deferrable %s, deferred %s, validated %s, comment %L',
			  quote_ident(o.conname), coalesce(o.conrelid::regclass::text, o.contypid::regtype::text),
			  pg_get_constraintdef(o.oid), o.condeferrable, o.condeferred, o.convalidated,
			  obj_description(o.oid, 'pg_constraint'))
FROM pg_constraint AS o
WHERE o.conrelid IN (SELECT oid FROM rel) OR o.contypid IN (SELECT oid FROM typ)

-- Indexes.
UNION ALL
SELECT format('index %s: %s, primary %s, unique %s, valid %s, clustered %s, replica identity %s',
			  i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisunique,
			  i.indisvalid, i.indisclustered, i.indisreplident)
FROM pg_index AS i WHERE i.indrelid IN (SELECT oid FROM rel)

-- Row-level security policies.
UNION ALL
SELECT format('policy %s on %s: command %s, permissive %s, roles %s, using %s, with check %s',
			  quote_ident(p.polname), p.polrelid::regclass, p.polcmd, p.polpermissive,
			  (SELECT array_agg(CASE r WHEN 0 THEN 'public' ELSE r::regrole::text END ORDER BY 1)
			   FROM unnest(p.polroles) AS r),
			  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
FROM pg_policy AS p WHERE p.polrelid IN (SELECT oid FROM rel)

-- Views, triggers and rules other than a view's own.
UNION ALL
SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid))
FROM rel AS c WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT format('trigger %s on %s: %s, enabled %s, comment %L',
			  quote_ident(t.tgname), t.tgrelid::regclass, pg_get_triggerdef(t.oid), t.tgenabled,
			  obj_description(t.oid, 'pg_trigger'))
FROM pg_trigger AS t WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal
UNION ALL
SELECT format('rule %s on %s: %s', quote_ident(r.rulename), r.ev_class::regclass, pg_get_ruledef(r.oid))
FROM pg_rewrite AS r
WHERE r.ev_class IN (SELECT oid FROM rel) AND r.rulename <> '_RETURN'

-- Sequences: their parameters and owning column, not their values.
UNION ALL
SELECT format('sequence %s: type %s, start %s, increment %s, min %s, max %s, cache %s, cycle %s, owned by %s',
			  s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin,
			  s.seqmax, s.seqcache, s.seqcycle,
			  (SELECT string_agg(format('%s.%s (%s)', d.refobjid::regclass, a.attname, d.deptype), ', ')
			   FROM pg_depend AS d
			   JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			   WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
				 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
FROM pg_sequence AS s WHERE s.seqrelid IN (SELECT oid FROM rel)

-- Functions and procedures, whole, with their settings and privileges.
UNION ALL
SELECT format('routine %s: kind %s, owner %s, security definer %s, leakproof %s, strict %s, volatility %s, parallel %s, cost %s, rows %s, config %s, acl %s, comment %L, definition %s',
			  p.oid::regprocedure, p.prokind, p.proowner::regrole, p.prosecdef, p.proleakproof,
			  p.proisstrict, p.provolatile, p.proparallel, p.procost, p.prorows, p.proconfig,
			  p.proacl, obj_description(p.oid, 'pg_proc'),
			  CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END)
FROM fn AS p

-- Types of their own (domains, enums, composite and range types).
UNION ALL
SELECT format('type %s: type %s, owner %s, base %s, not null %s, default %s, collation %s, acl %s, enum %s, comment %L',
			  t.oid::regtype, t.typtype, t.typowner::regrole, format_type(t.typbasetype, t.typtypmod),
			  t.typnotnull, t.typdefault, t.typcollation, t.typacl,
			  (SELECT array_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid),
			  obj_description(t.oid, 'pg_type'))
FROM typ AS t WHERE t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'

-- Collations.
UNION ALL
SELECT format('collation %s.%s: provider %s, deterministic %s, locale %s, collate %s, ctype %s, encoding %s, owner %s, comment %L',
			  l.collnamespace::regnamespace, quote_ident(l.collname), l.collprovider,
			  l.collisdeterministic, l.colliculocale, l.collcollate, l.collctype, l.collencoding,
			  l.collowner::regrole, obj_description(l.oid, 'pg_collation'))
FROM pg_collation AS l, ext
WHERE l.collnamespace = ext.nsp
   OR l.oid IN (SELECT objid FROM member WHERE classid = 'pg_collation'::regclass)

-- Other objects in the schema: operators, conversions, statistics objects.
UNION ALL
SELECT format('operator %s: %s', o.oid::regoperator, o.oprcode::regproc)
FROM pg_operator AS o, ext WHERE o.oprnamespace = ext.nsp
UNION ALL
SELECT format('statistics %s.%s: %s', x.stxnamespace::regnamespace, quote_ident(x.stxname),
			  pg_get_statisticsobjdef(x.oid))
FROM pg_statistic_ext AS x WHERE x.stxrelid IN (SELECT oid FROM rel)

-- The privileges the extension's scripts left, which pg_dump compares with.
UNION ALL
SELECT format('initial privileges of %s: %s, %s',
			  pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype, i.initprivs)
FROM pg_init_privs AS i, ext
WHERE (i.classoid = 'pg_class'::regclass AND i.objoid IN (SELECT oid FROM rel))
   OR (i.classoid = 'pg_proc'::regclass AND i.objoid IN (SELECT oid FROM fn))
   OR (i.classoid = 'pg_type'::regclass AND i.objoid IN (SELECT oid FROM typ))
   OR (i.classoid = 'pg_namespace'::regclass AND i.objoid = ext.nsp)
   OR (i.classoid, i.objoid) IN (SELECT classid, objid FROM member)

ORDER BY 1;
