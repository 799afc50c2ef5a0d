/*-------------------------------------------------------------------------
 *
 * write.c
 *	  Writes the validated rows in a fixed number of set-based statements:
 *	  one for new groups, one that looks up the groups' ids, one upsert for
 *	  all clients.  The dry run looks up the groups and counts the same
 *	  changes with one read-only query.
 *
 *	  Every statement names the account and is parameterized; every table
 *	  and function is schema-qualified, and pt_import_clients runs with
 *	  search_path = pg_catalog, pg_temp, so operators resolve in pg_catalog.
 *	  The 1.1 statements are also ones Citus can route to the account's
 *	  shard: anti-joins rather than correlated subqueries, no volatile
 *	  function where Citus refuses one, counts taken from RETURNING.  On
 *	  Citus the upsert and its undo data are three statements instead of
 *	  one (upsert_citus), which Citus runs on the account's node alone.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/*
 * The file's rows: $2..$9 are the columns internal_id .. diagnosis_code
 * (birth_year an int4[], gender a "char"[]), $10 each row's group_id (0: no
 * group; -1: a group not created yet, in the dry run).  The arrays are
 * unnested in the target list, which streams them in step; unnest in FROM
 * would first copy each into a tuplestore.
 */
#define PT_SOURCE_SELECT \
	" SELECT pg_catalog.unnest($2) AS internal_id, pg_catalog.unnest($3) AS first_name," \
	"        pg_catalog.unnest($4) AS last_name, pg_catalog.unnest($5) AS birth_year," \
	"        pg_catalog.unnest($6)::pg_catalog.text AS gender, pg_catalog.unnest($7) AS email," \
	"        pg_catalog.unnest($8) AS mobile, pg_catalog.unnest($9) AS diagnosis_code," \
	"        NULLIF(pg_catalog.unnest($10), 0) AS group_id"
#define PT_SOURCE_ROWS "WITH src AS (" PT_SOURCE_SELECT ")"

/* ... and each row's line ($15), for the undo data. */
#define PT_SOURCE_SELECT_LINES PT_SOURCE_SELECT ", pg_catalog.unnest($15) AS line_no"

/*
 * True when row n would change the stored client c: a required value
 * differs, or an optional one is given and differs (an empty or invalid
 * optional value never erases what is stored).
 */
#define PT_CHANGED(c, n) \
	"((" c ".first_name, " c ".last_name, " c ".birth_year, " c ".gender) IS DISTINCT FROM" \
	" (" n ".first_name, " n ".last_name, " n ".birth_year, " n ".gender)" \
	" OR (" n ".email IS NOT NULL AND " n ".email IS DISTINCT FROM " c ".email)" \
	" OR (" n ".mobile IS NOT NULL AND " n ".mobile IS DISTINCT FROM " c ".mobile)" \
	" OR (" n ".diagnosis_code IS NOT NULL AND " n ".diagnosis_code IS DISTINCT FROM " c ".diagnosis_code)" \
	" OR (" n ".group_id IS NOT NULL AND " n ".group_id IS DISTINCT FROM " c ".group_id))"

/*
 * True when row n of the file is written over the stored client o (NULL:
 * none), given the mode $12: 'insert' writes no existing client, 'update'
 * no new one, and a row that would change nothing is not written.
 */
#define PT_TO_WRITE(o, n) \
	"CASE WHEN " o ".client_id IS NULL THEN $12 <> 'update'" \
	" ELSE $12 <> 'insert' AND " PT_CHANGED(o, n) " END"

/*
 * The values of the columns an update changed, before (pick PT_BEFORE: from
 * the columns prefixed o, the client as it was) or after (PT_AFTER: from
 * those prefixed n, the row of the file), NULL for the columns it does not
 * change, as a ptimport.client_values.  An optional column changes only
 * when the file gives it a value (PT_UPDATE_SET).
 */
#define PT_BEFORE(o, n, col) o col
#define PT_AFTER(o, n, col) n col
#define PT_CHANGED_REQUIRED(o, n, col, pick) \
	"CASE WHEN " o col " IS DISTINCT FROM " n col " THEN " pick(o, n, col) " END"
#define PT_CHANGED_OPTIONAL(o, n, col, pick) \
	"CASE WHEN " n col " IS NOT NULL AND " o col " IS DISTINCT FROM " n col \
	" THEN " pick(o, n, col) " END"
#define PT_CHANGED_VALUES(o, n, pick) \
	"ROW(" PT_CHANGED_REQUIRED(o, n, "first_name", pick) ", " \
	PT_CHANGED_REQUIRED(o, n, "last_name", pick) ", " \
	PT_CHANGED_REQUIRED(o, n, "birth_year", pick) ", " \
	PT_CHANGED_REQUIRED(o, n, "gender", pick) ", " \
	PT_CHANGED_OPTIONAL(o, n, "email", pick) ", " \
	PT_CHANGED_OPTIONAL(o, n, "mobile", pick) ", " \
	PT_CHANGED_OPTIONAL(o, n, "diagnosis_code", pick) ", " \
	PT_CHANGED_OPTIONAL(o, n, "group_id", pick) ")::ptimport.client_values"

/*
 * One array of run_undo: x over the written rows for which cond holds.  The
 * arrays of one aggregation see the rows in the same order, so they line up.
 */
#define PT_UNDO_ARRAY(x, cond, type) \
	"COALESCE(pg_catalog.array_agg(" x ") FILTER (WHERE " cond "), '{}'::" type "[])"

/*
 * The seven arrays of run_undo after its account and run, in its column
 * order, over rows s (the file's) each with o, the client it changes, whose
 * columns are named with the prefix o ("o." or "s.o_"): the internal_ids and
 * lines inserted, then the ids, lines, updated_at and changed values (before
 * and after) of the clients updated.
 */
#define PT_UNDO_ARRAYS(o) \
	PT_UNDO_ARRAY("s.internal_id", o "client_id IS NULL", "text") ", " \
	PT_UNDO_ARRAY("s.line_no", o "client_id IS NULL", "int4") ", " \
	PT_UNDO_ARRAY(o "client_id", o "client_id IS NOT NULL", "int8") ", " \
	PT_UNDO_ARRAY("s.line_no", o "client_id IS NOT NULL", "int4") ", " \
	PT_UNDO_ARRAY(o "updated_at", o "client_id IS NOT NULL", "timestamptz") ", " \
	PT_UNDO_ARRAY(PT_CHANGED_VALUES(o, "s.", PT_BEFORE), o "client_id IS NOT NULL", \
				  "ptimport.client_values") ", " \
	PT_UNDO_ARRAY(PT_CHANGED_VALUES(o, "s.", PT_AFTER), o "client_id IS NOT NULL", \
				  "ptimport.client_values")

/* The values an update writes: optional ones only when given. */
#define PT_UPDATE_SET(updated_at) \
	"    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name," \
	"    birth_year = EXCLUDED.birth_year, gender = EXCLUDED.gender," \
	"    email = COALESCE(EXCLUDED.email, c.email)," \
	"    mobile = COALESCE(EXCLUDED.mobile, c.mobile)," \
	"    diagnosis_code = COALESCE(EXCLUDED.diagnosis_code, c.diagnosis_code)," \
	"    group_id = COALESCE(EXCLUDED.group_id, c.group_id)," \
	"    updated_at = " updated_at

/* ---- The 1.1 schema ---- */

/*
 * $2: the group names as spelled in the file, first seen first; $3 the
 * time the groups are created at.  Returns the new groups' ids.  Names are
 * compared under the column's collation, ptimport.group_name.  The rows
 * start from the account's row in ptimport.account (which the import
 * holds locked): on Citus that keeps the statement on the account's shards
 * (with the names' list outer-joined to the groups, Citus would copy the
 * account's groups to every node first).
 */
static const char insert_groups_sql[] =
	"INSERT INTO ptimport.client_group AS g (account_id, name, created_at)"
	" SELECT a.account_id, n.name, $3"
	" FROM ptimport.account AS a"
	" CROSS JOIN ("
	"   SELECT DISTINCT ON (u.name COLLATE ptimport.group_name) u.name"
	"   FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(name, ord)"
	"   ORDER BY u.name COLLATE ptimport.group_name, u.ord) AS n"
	" LEFT JOIN ptimport.client_group AS e"
	"   ON e.account_id = a.account_id AND e.name = n.name"
	" WHERE a.account_id = $1 AND e.group_id IS NULL"
	" ORDER BY n.name COLLATE ptimport.group_name"
	" ON CONFLICT (account_id, name) DO NOTHING"
	" RETURNING g.group_id";

/*
 * For each spelling in $2, in order: the account's group of that name (NULL
 * if there is none), and whether it is the first spelling of its name (the
 * dry run counts the groups it would create with it).
 */
static const char resolve_groups_sql[] =
	"SELECT g.group_id,"
	"       pg_catalog.row_number() OVER (PARTITION BY sp.name COLLATE ptimport.group_name"
	"                                     ORDER BY sp.ord) = 1"
	" FROM pg_catalog.unnest($2) WITH ORDINALITY AS sp(name, ord)"
	" LEFT JOIN ptimport.client_group AS g"
	"   ON g.account_id = $1 AND g.name = sp.name"
	" ORDER BY sp.ord";

/*
 * $11 is the time written into created_at and updated_at (the transaction's
 * start, as now() would be), $12 the mode: 'insert' writes no existing
 * client, 'update' no new one.  Rows that match a stored client and change
 * nothing are left out before the INSERT: ON CONFLICT DO UPDATE locks the
 * existing row even when its WHERE is false, and that lock would be a write.
 *
 * The same statement keeps what revert_run() needs in ptimport.run_undo,
 * under run $13, from the rows it writes (changes, read once, with each
 * client as it was before): the internal_ids inserted, the changed columns
 * of the clients updated, each with its line ($15), and the groups created
 * before ($14).  An import that writes no client keeps nothing, and
 * neither does one of more rows than ptimport.undo_max_rows ($13 NULL).
 */
static const char upsert_clients_sql[] =
	"WITH src AS (" PT_SOURCE_SELECT_LINES "),"
	/* the rows to write, with the client each one changes (o) if it exists */
	" changes AS MATERIALIZED ("
	"  SELECT s.*, o.client_id AS o_client_id, o.updated_at AS o_updated_at,"
	"         o.first_name AS o_first_name, o.last_name AS o_last_name,"
	"         o.birth_year AS o_birth_year, o.gender AS o_gender, o.email AS o_email,"
	"         o.mobile AS o_mobile, o.diagnosis_code AS o_diagnosis_code,"
	"         o.group_id AS o_group_id"
	"  FROM src AS s"
	"  LEFT JOIN ptimport.client AS o ON o.account_id = $1 AND o.internal_id = s.internal_id"
	"  WHERE " PT_TO_WRITE("o", "s") "),"
	" written AS ("
	"  INSERT INTO ptimport.client AS c (account_id, internal_id, first_name, last_name,"
	"         birth_year, gender, email, mobile, diagnosis_code, group_id, created_at, updated_at)"
	"  SELECT $1, s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender,"
	"         s.email, s.mobile, s.diagnosis_code, s.group_id, $11, $11"
	"  FROM changes AS s"
	"  ON CONFLICT (account_id, internal_id) DO UPDATE SET"
	PT_UPDATE_SET("EXCLUDED.updated_at")
	"  WHERE " PT_CHANGED("c", "EXCLUDED")
	"  RETURNING c.xmax = 0 AS inserted, c.xmin),"
	" undo AS ("
	"  INSERT INTO ptimport.run_undo (account_id, run_id, written_at, written_xmin,"
	"         inserted_internal_ids, inserted_lines, updated_ids, updated_lines,"
	"         updated_at_before, before, after, created_group_ids)"
	"  SELECT $1, $13, $11, (SELECT w.xmin FROM written AS w LIMIT 1),"
	"         " PT_UNDO_ARRAYS("s.o_") ","
	"         $14"
	"  FROM changes AS s"
	"  WHERE $13 IS NOT NULL"
	"  HAVING pg_catalog.count(*) > 0)"
	" SELECT pg_catalog.count(*) FILTER (WHERE inserted),"
	"        pg_catalog.count(*) FILTER (WHERE NOT inserted)"
	" FROM written";

/*
 * On Citus, the statement above is three, for speed.  Citus runs an INSERT
 * ... SELECT into a table with an identity column by pulling the rows to
 * the node that plans it, and sends every subplan such a statement reads
 * (the CTEs changes and written) to every node of the cluster: each import
 * became a commit in two phases on all nodes, 3 to 7 times the time of a
 * single server (test/bench/citus.sh).  These keep to the account's shards,
 * starting from the account's row, which the import holds locked, so they
 * see the clients as the one statement would: first the undo data, read
 * from the clients as they are (no row: the file changes nothing, and
 * nothing more is run); then the upsert, which returns the counts and a
 * written row's xmin; then the undo data's row, with that xmin.
 */
static const char changes_citus_sql[] =
	"SELECT " PT_UNDO_ARRAYS("o.")
	" FROM ptimport.account AS a"
	" CROSS JOIN (" PT_SOURCE_SELECT_LINES ") AS s"
	" LEFT JOIN ptimport.client AS o ON o.account_id = a.account_id AND o.internal_id = s.internal_id"
	" WHERE a.account_id = $1 AND " PT_TO_WRITE("o", "s")
	" GROUP BY a.account_id";

static const char upsert_clients_citus_sql[] =
	"WITH written AS ("
	"  INSERT INTO ptimport.client AS c (account_id, internal_id, first_name, last_name,"
	"         birth_year, gender, email, mobile, diagnosis_code, group_id, created_at, updated_at)"
	"  SELECT a.account_id, s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender,"
	"         s.email, s.mobile, s.diagnosis_code, s.group_id, $11, $11"
	"  FROM ptimport.account AS a"
	"  CROSS JOIN (" PT_SOURCE_SELECT ") AS s"
	"  LEFT JOIN ptimport.client AS o ON o.account_id = a.account_id AND o.internal_id = s.internal_id"
	"  WHERE a.account_id = $1 AND " PT_TO_WRITE("o", "s")
	"  ON CONFLICT (account_id, internal_id) DO UPDATE SET"
	PT_UPDATE_SET("EXCLUDED.updated_at")
	"  WHERE " PT_CHANGED("c", "EXCLUDED")
	"  RETURNING c.xmax = 0 AS inserted, c.xmin)"
	" SELECT pg_catalog.count(*) FILTER (WHERE inserted),"
	"        pg_catalog.count(*) FILTER (WHERE NOT inserted),"
	"        (pg_catalog.array_agg(xmin))[1]"
	" FROM written";

/* $1 the account, $2 the run, $3 the time written, $4 the xmin, $5.. the arrays. */
#define PT_NUNDOARRAYS 7
static const char insert_undo_citus_sql[] =
	"INSERT INTO ptimport.run_undo (account_id, run_id, written_at, written_xmin,"
	"       inserted_internal_ids, inserted_lines, updated_ids, updated_lines,"
	"       updated_at_before, before, after, created_group_ids)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/* The dry run's count of what upsert_clients_sql would insert and update. */
static const char count_changes_sql[] =
	PT_SOURCE_ROWS
	" SELECT pg_catalog.count(*) FILTER (WHERE c.client_id IS NULL AND $12 <> 'update'),"
	"        pg_catalog.count(*) FILTER (WHERE c.client_id IS NOT NULL AND $12 <> 'insert'"
	"                                      AND " PT_CHANGED("c", "s") ")"
	" FROM src AS s"
	" LEFT JOIN ptimport.client AS c"
	"   ON c.account_id = $1 AND c.internal_id = s.internal_id";

/*
 * The rows the mode refuses: with $3 = 'insert' those whose internal_id is
 * stored already, with 'update' those whose is not; $2 holds the file's
 * internal_ids in row order, and the result their positions and ids.
 */
static const char mode_refused_sql[] =
	"SELECT s.ord, s.internal_id"
	" FROM pg_catalog.unnest($2) WITH ORDINALITY AS s(internal_id, ord)"
	" LEFT JOIN ptimport.client AS c"
	"   ON c.account_id = $1 AND c.internal_id = s.internal_id"
	" WHERE (c.client_id IS NULL) = ($3 = 'update')"
	" ORDER BY s.ord";

/* ---- The 1.0 schema, for the 1.0 declarations until ALTER EXTENSION UPDATE ---- */

/* 1.0 matched group names by lower() under the ICU root collation. */
#define PT_LOWER_1_0(x) "pg_catalog.lower((" x ") COLLATE pg_catalog.\"und-x-icu\")"

static const char insert_groups_1_0_sql[] =
	"INSERT INTO ptimport.client_group (account_id, name)"
	" SELECT $1, n.name FROM ("
	"   SELECT DISTINCT ON (" PT_LOWER_1_0("u.name") ") u.name"
	"   FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(name, ord)"
	"   ORDER BY " PT_LOWER_1_0("u.name") ", u.ord) AS n"
	" WHERE NOT EXISTS (SELECT FROM ptimport.client_group AS e"
	"                   WHERE e.account_id = $1 AND " PT_LOWER_1_0("e.name") " = " PT_LOWER_1_0("n.name") ")"
	" ORDER BY " PT_LOWER_1_0("n.name")
	" ON CONFLICT (account_id, " PT_LOWER_1_0("name") ") DO NOTHING"
	" RETURNING group_id";

static const char resolve_groups_1_0_sql[] =
	"SELECT g.group_id,"
	"       pg_catalog.row_number() OVER (PARTITION BY " PT_LOWER_1_0("sp.name") " ORDER BY sp.ord) = 1"
	" FROM pg_catalog.unnest($2) WITH ORDINALITY AS sp(name, ord)"
	" LEFT JOIN ptimport.client_group AS g"
	"   ON g.account_id = $1 AND " PT_LOWER_1_0("g.name") " = " PT_LOWER_1_0("sp.name")
	" ORDER BY sp.ord";

static const char upsert_clients_1_0_sql[] =
	PT_SOURCE_ROWS ","
	" written AS ("
	"  INSERT INTO ptimport.client AS c (account_id, internal_id, first_name, last_name,"
	"         birth_year, gender, email, mobile, diagnosis_code, group_id)"
	"  SELECT $1, s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender,"
	"         s.email, s.mobile, s.diagnosis_code, s.group_id FROM src AS s"
	"  WHERE NOT EXISTS (SELECT FROM ptimport.client AS c"
	"                    WHERE c.account_id = $1 AND c.internal_id = s.internal_id"
	"                      AND NOT " PT_CHANGED("c", "s") ")"
	"  ON CONFLICT (account_id, internal_id) DO UPDATE SET"
	PT_UPDATE_SET("pg_catalog.now()")
	"  WHERE " PT_CHANGED("c", "EXCLUDED")
	"  RETURNING c.xmax = 0 AS inserted)"
	" SELECT pg_catalog.count(*) FILTER (WHERE inserted),"
	"        pg_catalog.count(*) FILTER (WHERE NOT inserted)"
	" FROM written";

/* The statements of each schema version. */
typedef struct PtStatements
{
	const char *insert_groups;
	const char *resolve_groups;
	const char *upsert_clients;
	int			upsert_nargs;
} PtStatements;

#define PT_NROWARGS 10			/* $1 .. $10: the account and the rows */
#define PT_NARGS 12				/* and the time written, the mode */
#define PT_NUPSERTARGS 15		/* and the run, the groups created, the lines */

static const PtStatements statements_1_0 = {
	insert_groups_1_0_sql, resolve_groups_1_0_sql, upsert_clients_1_0_sql, PT_NROWARGS
};
static const PtStatements statements_1_1 = {
	insert_groups_sql, resolve_groups_sql, upsert_clients_sql, PT_NUPSERTARGS
};

/* Largest number of rows whose statements get a plan made for their values. */
#define PT_CUSTOM_PLAN_MAX_ROWS 100000

static const Oid row_arg_types[PT_NUPSERTARGS] = {
	INT8OID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
	CHARARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID,
	TIMESTAMPTZOID, TEXTOID, INT8OID, INT8ARRAYOID, INT4ARRAYOID
};

static const Oid group_arg_types[3] = {INT8OID, TEXTARRAYOID, TIMESTAMPTZOID};

static const PtStatements *statements_of(PtSqlVersion version);
static void refuse_by_mode(PtImport *imp, Datum *args);
static void upsert_citus(PtImport *imp, Datum *args, bool keep_undo);
static int64 *group_ids(PtImport *imp, bool create, int64 *count);
static int64 *lookup_groups(const PtStatements *sql, Datum *args, int n, int64 *missing);
static void row_args(PtImport *imp, const int64 *spelling_ids, Datum *args);
static void run_statement(const char *sql, int nargs, const Oid *types, Datum *args,
						  const char *nulls, int nrows, bool read_only, int expected);
static int64 result_int8(int col);

static const PtStatements *
statements_of(PtSqlVersion version)
{
	return version == PT_SQL_1_0 ? &statements_1_0 : &statements_1_1;
}

/*
 * Imports the collected rows into imp->account_id: creates missing groups,
 * then inserts or updates clients, and sets the counts.  The caller holds
 * the account's lock (pt_lock_account).
 */
void
pt_write_clients(PtImport *imp)
{
	const PtStatements *sql = statements_of(imp->version);
	Datum		args[PT_NUPSERTARGS];
	char		undo_nulls[PT_NUPSERTARGS];
	bool		keep_undo = imp->nclients <= pt_undo_max_rows;

	if (imp->nclients == 0)
		return;
	row_args(imp, group_ids(imp, true, &imp->groups_created), args);
	refuse_by_mode(imp, args);

	/* a large file keeps no undo data: its arrays would be built in memory */
	memset(undo_nulls, ' ', sizeof(undo_nulls));
	undo_nulls[12] = keep_undo ? ' ' : 'n';
	args[12] = Int64GetDatum(imp->run_id);
	args[13] = PointerGetDatum(imp->created_groups ? imp->created_groups :
							   construct_empty_array(INT8OID));
	args[14] = PointerGetDatum(imp->lines);
	if (imp->version >= PT_SQL_1_1 && pt_citus_loaded())
		upsert_citus(imp, args, keep_undo);
	else
	{
		run_statement(sql->upsert_clients, sql->upsert_nargs, row_arg_types, args,
					  undo_nulls, imp->nclients, false, SPI_OK_SELECT);
		imp->inserted = result_int8(1);
		imp->updated = result_int8(2);
	}
	imp->unchanged = imp->nclients - imp->refused - imp->inserted - imp->updated;
}

/*
 * On Citus: the upsert and its undo data in the statements that keep to
 * the account's shards (see changes_citus_sql), and the counts.
 */
static void
upsert_citus(PtImport *imp, Datum *args, bool keep_undo)
{
	Datum		undo[4 + PT_NUNDOARRAYS + 1];
	Oid			types[4 + PT_NUNDOARRAYS + 1];
	char		nulls[4 + PT_NUNDOARRAYS + 1];
	bool		isnull;
	int			i;

	imp->inserted = imp->updated = 0;
	if (!keep_undo)
	{
		run_statement(upsert_clients_citus_sql, PT_NUPSERTARGS, row_arg_types, args,
					  NULL, imp->nclients, false, SPI_OK_SELECT);
		imp->inserted = result_int8(1);
		imp->updated = result_int8(2);
		return;
	}
	run_statement(changes_citus_sql, PT_NUPSERTARGS, row_arg_types, args,
				  NULL, imp->nclients, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;

	/* the arrays stay in this SPI result until SPI_finish */
	memset(nulls, ' ', sizeof(nulls));
	for (i = 0; i < PT_NUNDOARRAYS; i++)
	{
		undo[4 + i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		types[4 + i] = SPI_gettypeid(SPI_tuptable->tupdesc, i + 1);
	}

	run_statement(upsert_clients_citus_sql, PT_NUPSERTARGS, row_arg_types, args,
				  NULL, imp->nclients, false, SPI_OK_SELECT);
	imp->inserted = result_int8(1);
	imp->updated = result_int8(2);
	undo[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	nulls[3] = isnull ? 'n' : ' ';

	undo[0] = args[0];
	undo[1] = args[12];
	undo[2] = args[10];
	undo[4 + PT_NUNDOARRAYS] = args[13];
	types[0] = INT8OID;
	types[1] = INT8OID;
	types[2] = TIMESTAMPTZOID;
	types[3] = XIDOID;
	types[4 + PT_NUNDOARRAYS] = INT8ARRAYOID;
	if (SPI_execute_with_args(insert_undo_citus_sql, lengthof(undo), types, undo, nulls,
							  false, 0) != SPI_OK_INSERT || SPI_processed != 1)
		elog(ERROR, "could not keep the undo data of the import");
}

/* The dry run: counts what pt_write_clients would do, writing nothing. */
void
pt_count_changes(PtImport *imp)
{
	Datum		args[PT_NARGS];

	if (imp->nclients == 0)
		return;
	row_args(imp, group_ids(imp, false, &imp->groups_created), args);
	refuse_by_mode(imp, args);
	run_statement(count_changes_sql, PT_NARGS, row_arg_types, args, NULL, imp->nclients,
				  true, SPI_OK_SELECT);
	imp->inserted = result_int8(1);
	imp->updated = result_int8(2);
	imp->unchanged = imp->nclients - imp->refused - imp->inserted - imp->updated;
}

/*
 * In the 'insert' and 'update' modes, finds the rows the mode refuses and
 * reports each as a failed row; the upsert leaves them out by itself.
 */
static void
refuse_by_mode(PtImport *imp, Datum *args)
{
	uint64		i;

	if (imp->mode == PT_MODE_UPSERT)
		return;
	run_statement(mode_refused_sql, 3, (Oid[]) {INT8OID, TEXTARRAYOID, TEXTOID},
				  (Datum[]) {args[0], args[1 + PT_FIELD_INTERNAL_ID], args[11]}, NULL,
				  imp->nclients, true, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		int64		ord = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));

		pt_refuse_client(imp, (int) ord - 1, SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2));
	}
	imp->refused = SPI_processed;
}

/*
 * The account's group_id for each spelling in imp->group_names, in order
 * (NULL when the file names no group).  With create, the missing groups are
 * created and *count is how many; without (the dry run), a missing group's
 * id is -1, so its rows count as changes, and *count is how many groups
 * would be created.  The groups are looked up first and created only when
 * some are missing, so a file whose groups all exist (a re-import) runs no
 * INSERT (on Citus, one that must be pulled through the planning node).  A
 * group deleted by another session between the statements also gets -1,
 * which the foreign key then refuses.
 */
static int64 *
group_ids(PtImport *imp, bool create, int64 *count)
{
	const PtStatements *sql = statements_of(imp->version);
	int			n = imp->group_names.nitems;
	Datum		args[3];
	int64	   *ids;
	int64		missing;
	uint64		i;

	if (n == 0)
		return NULL;
	args[0] = Int64GetDatum(imp->account_id);
	args[1] = PointerGetDatum(pt_column_array(&imp->group_names));
	args[2] = TimestampTzGetDatum(imp->written_at);
	ids = lookup_groups(sql, args, n, &missing);
	*count = missing;
	if (!create || missing == 0)
		return ids;

	run_statement(sql->insert_groups, imp->version == PT_SQL_1_0 ? 2 : 3,
				  group_arg_types, args, NULL, n, false, SPI_OK_INSERT_RETURNING);
	*count = SPI_processed;
	{
		int64	   *created;

		imp->created_groups = pt_fixed_array(INT8OID, (int) SPI_processed, (void **) &created);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;

			created[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	pfree(ids);
	return lookup_groups(sql, args, n, &missing);
}

/*
 * The group_id of each of the n spellings in args[1] (-1: no such group
 * yet), and in *missing how many groups are missing (each name once).
 */
static int64 *
lookup_groups(const PtStatements *sql, Datum *args, int n, int64 *missing)
{
	int64	   *ids;
	uint64		i;

	/* not read-only: it must see the groups this import created */
	run_statement(sql->resolve_groups, 2, group_arg_types, args, NULL, n, false, SPI_OK_SELECT);
	if (SPI_processed != (uint64) n)
		elog(ERROR, "could not resolve client groups");
	ids = palloc(n * sizeof(int64));
	*missing = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		first_isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		Datum		first = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2,
										  &first_isnull);

		ids[i] = isnull ? -1 : DatumGetInt64(id);
		if (isnull && DatumGetBool(first))
			(*missing)++;
	}
	return ids;
}

/*
 * The statements' arguments: the account, the columns in file order, each
 * row's group_id (0: none), the time written and the mode.  The columns are
 * used up.
 */
static void
row_args(PtImport *imp, const int64 *spelling_ids, Datum *args)
{
	int32	   *years;
	char	   *genders;
	int64	   *row_groups;
	int32	   *lines;
	int			f;
	int			i;

	args[0] = Int64GetDatum(imp->account_id);
	for (f = 0; f < PT_FIELD_CLIENT_GROUP; f++)
		if (f != PT_FIELD_BIRTH_YEAR && f != PT_FIELD_GENDER)
			args[f + 1] = PointerGetDatum(pt_column_array(&imp->columns[f]));

	args[PT_FIELD_BIRTH_YEAR + 1] =
		PointerGetDatum(pt_fixed_array(INT4OID, imp->nclients, (void **) &years));
	memcpy(years, imp->years, imp->nclients * sizeof(int32));
	pfree(imp->years);

	args[PT_FIELD_GENDER + 1] =
		PointerGetDatum(pt_fixed_array(CHAROID, imp->nclients, (void **) &genders));
	memcpy(genders, imp->genders, imp->nclients * sizeof(char));
	pfree(imp->genders);

	args[PT_FIELD_CLIENT_GROUP + 1] =
		PointerGetDatum(pt_fixed_array(INT8OID, imp->nclients, (void **) &row_groups));
	for (i = 0; i < imp->nclients; i++)
		row_groups[i] = imp->group_ords[i] == 0 ? 0 : spelling_ids[imp->group_ords[i] - 1];
	pfree(imp->group_ords);
	imp->years = imp->group_ords = NULL;
	imp->genders = NULL;

	imp->lines = pt_fixed_array(INT4OID, imp->nclients, (void **) &lines);
	memcpy(lines, imp->client_lines, imp->nclients * sizeof(int32));

	args[10] = TimestampTzGetDatum(imp->written_at);
	args[11] = CStringGetTextDatum(pt_mode_name(imp->mode));
}

/*
 * Runs one statement over arrays of nrows values.  Up to
 * PT_CUSTOM_PLAN_MAX_ROWS the planner sees the values, so it can choose
 * joins by the real row count.  Beyond that the plan is generic: a custom
 * plan folds the arguments into constants, one more copy of every column,
 * and the generic plan's nested loops of index lookups grow linearly where
 * a hash join of a large account would spill to disk.  Citus cannot plan a
 * distributed statement generically, so there every plan is custom.
 */
static void
run_statement(const char *sql, int nargs, const Oid *types, Datum *args,
			  const char *nulls, int nrows, bool read_only, int expected)
{
	SPIPlanPtr	plan;
	int			result;

	if (nrows <= PT_CUSTOM_PLAN_MAX_ROWS || pt_citus_loaded())
		result = SPI_execute_with_args(sql, nargs, (Oid *) types, args, nulls, read_only, 0);
	else
	{
		plan = SPI_prepare_cursor(sql, nargs, (Oid *) types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
		result = SPI_execute_plan(plan, args, nulls, read_only, 0);
		SPI_freeplan(plan);
	}
	if (result != expected)
		elog(ERROR, "unexpected result of a ptimport statement: %s",
			 SPI_result_code_string(result));
}

/* Column col of the single row SPI returned, as an int64. */
static int64
result_int8(int col)
{
	bool		isnull;
	Datum		d;

	if (SPI_processed != 1)
		elog(ERROR, "a ptimport count returned " UINT64_FORMAT " rows", SPI_processed);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}
