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
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

/* Group names match case-insensitively, the same way in every database. */
#define PT_LOWER(x) "pg_catalog.lower((" x ") COLLATE pg_catalog.\"und-x-icu\")"

/*
 * The file's rows: $2..$9 are the columns internal_id .. diagnosis_code
 * (birth_year an int4[], gender a "char"[]), $10 each row's group_id (0: no
 * group; -1: a group not created yet, in the dry run).  The arrays are
 * unnested in the target list, which streams them in step; unnest in FROM
 * would first copy each into a tuplestore.
 */
#define PT_SOURCE_ROWS \
	"WITH src AS (" \
	" SELECT pg_catalog.unnest($2) AS internal_id, pg_catalog.unnest($3) AS first_name," \
	"        pg_catalog.unnest($4) AS last_name, pg_catalog.unnest($5) AS birth_year," \
	"        pg_catalog.unnest($6)::pg_catalog.text AS gender, pg_catalog.unnest($7) AS email," \
	"        pg_catalog.unnest($8) AS mobile, pg_catalog.unnest($9) AS diagnosis_code," \
	"        NULLIF(pg_catalog.unnest($10), 0) AS group_id)"

/*
 * True when row n would change the stored client c: a required value
 * differs, or an optional one is given and differs (an empty or invalid
 * optional value never erases what is stored).
 */
#define PT_CHANGED(n) \
	"((c.first_name, c.last_name, c.birth_year, c.gender) IS DISTINCT FROM" \
	" (" n ".first_name, " n ".last_name, " n ".birth_year, " n ".gender)" \
	" OR (" n ".email IS NOT NULL AND " n ".email IS DISTINCT FROM c.email)" \
	" OR (" n ".mobile IS NOT NULL AND " n ".mobile IS DISTINCT FROM c.mobile)" \
	" OR (" n ".diagnosis_code IS NOT NULL AND " n ".diagnosis_code IS DISTINCT FROM c.diagnosis_code)" \
	" OR (" n ".group_id IS NOT NULL AND " n ".group_id IS DISTINCT FROM c.group_id))"

/* $2: the group names as spelled in the file, first seen first. */
static const char insert_groups_sql[] =
	"INSERT INTO ptimport.client_group (account_id, name)"
	" SELECT $1, n.name FROM ("
	"   SELECT DISTINCT ON (" PT_LOWER("u.name") ") u.name"
	"   FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(name, ord)"
	"   ORDER BY " PT_LOWER("u.name") ", u.ord) AS n"
	" WHERE NOT EXISTS (SELECT FROM ptimport.client_group AS e"
	"                   WHERE e.account_id = $1 AND " PT_LOWER("e.name") " = " PT_LOWER("n.name") ")"
	" ORDER BY " PT_LOWER("n.name")
	" ON CONFLICT (account_id, " PT_LOWER("name") ") DO NOTHING";

/*
 * For each spelling in $2, in order: the account's group of that name (NULL
 * if there is none), and whether it is the first spelling of its name (the
 * dry run counts the groups it would create with it).
 */
static const char resolve_groups_sql[] =
	"SELECT g.group_id,"
	"       pg_catalog.row_number() OVER (PARTITION BY " PT_LOWER("sp.name") " ORDER BY sp.ord) = 1"
	" FROM pg_catalog.unnest($2) WITH ORDINALITY AS sp(name, ord)"
	" LEFT JOIN ptimport.client_group AS g"
	"   ON g.account_id = $1 AND " PT_LOWER("g.name") " = " PT_LOWER("sp.name")
	" ORDER BY sp.ord";

/*
 * Rows that match a stored client and change nothing are left out before the
 * INSERT: ON CONFLICT DO UPDATE locks the existing row even when its WHERE is
 * false, and that lock would be a write.
 */
static const char upsert_clients_sql[] =
	PT_SOURCE_ROWS ","
	" written AS ("
	"  INSERT INTO ptimport.client AS c (account_id, internal_id, first_name, last_name,"
	"         birth_year, gender, email, mobile, diagnosis_code, group_id)"
	"  SELECT $1, s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender,"
	"         s.email, s.mobile, s.diagnosis_code, s.group_id FROM src AS s"
	"  WHERE NOT EXISTS (SELECT FROM ptimport.client AS c"
	"                    WHERE c.account_id = $1 AND c.internal_id = s.internal_id"
	"                      AND NOT " PT_CHANGED("s") ")"
	"  ON CONFLICT (account_id, internal_id) DO UPDATE SET"
	"    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,"
	"    birth_year = EXCLUDED.birth_year, gender = EXCLUDED.gender,"
	"    email = COALESCE(EXCLUDED.email, c.email),"
	"    mobile = COALESCE(EXCLUDED.mobile, c.mobile),"
	"    diagnosis_code = COALESCE(EXCLUDED.diagnosis_code, c.diagnosis_code),"
	"    group_id = COALESCE(EXCLUDED.group_id, c.group_id),"
	"    updated_at = pg_catalog.now()"
	"  WHERE " PT_CHANGED("EXCLUDED")
	"  RETURNING c.xmax = 0 AS inserted)"
	" SELECT pg_catalog.count(*) FILTER (WHERE inserted),"
	"        pg_catalog.count(*) FILTER (WHERE NOT inserted)"
	" FROM written";

static const char count_changes_sql[] =
	PT_SOURCE_ROWS
	" SELECT pg_catalog.count(*) FILTER (WHERE c.client_id IS NULL),"
	"        pg_catalog.count(*) FILTER (WHERE c.client_id IS NOT NULL AND " PT_CHANGED("s") ")"
	" FROM src AS s"
	" LEFT JOIN ptimport.client AS c"
	"   ON c.account_id = $1 AND c.internal_id = s.internal_id";

#define PT_NARGS 10

/* Largest number of rows whose statements get a plan made for their values. */
#define PT_CUSTOM_PLAN_MAX_ROWS 100000

static const Oid row_arg_types[PT_NARGS] = {
	INT8OID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
	CHARARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID
};

static const Oid group_arg_types[2] = {INT8OID, TEXTARRAYOID};

static int64 *group_ids(PtImport *imp, bool create, int64 *count);
static void row_args(PtImport *imp, const int64 *spelling_ids, Datum *args);
static void run_statement(const char *sql, int nargs, const Oid *types, Datum *args,
						  int nrows, bool read_only, int expected);
static int64 result_int8(int col);

/*
 * Imports the collected rows into imp->account_id: creates missing groups,
 * then inserts or updates clients, and sets the counts.  Concurrent imports
 * into one account take turns (a transaction-level advisory lock); imports
 * into different accounts never wait for each other.
 */
void
pt_write_clients(PtImport *imp)
{
	Datum		args[PT_NARGS];

	/* Lock key: a constant and the account, mapped one-to-one to two int4s. */
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum((int32) (0x70744900 ^ (uint32) ((uint64) imp->account_id >> 32))),
						Int32GetDatum((int32) (uint32) imp->account_id));

	if (imp->nclients == 0)
		return;
	row_args(imp, group_ids(imp, true, &imp->groups_created), args);
	run_statement(upsert_clients_sql, PT_NARGS, row_arg_types, args, imp->nclients,
				  false, SPI_OK_SELECT);
	imp->inserted = result_int8(1);
	imp->updated = result_int8(2);
	imp->unchanged = imp->nclients - imp->inserted - imp->updated;
}

/* The dry run: counts what pt_write_clients would do, writing nothing. */
void
pt_count_changes(PtImport *imp)
{
	Datum		args[PT_NARGS];

	if (imp->nclients == 0)
		return;
	row_args(imp, group_ids(imp, false, &imp->groups_created), args);
	run_statement(count_changes_sql, PT_NARGS, row_arg_types, args, imp->nclients,
				  true, SPI_OK_SELECT);
	imp->inserted = result_int8(1);
	imp->updated = result_int8(2);
	imp->unchanged = imp->nclients - imp->inserted - imp->updated;
}

/*
 * The account's group_id for each spelling in imp->group_names, in order
 * (NULL when the file names no group).  With create, the missing groups are
 * created first and *count is how many; without (the dry run), a missing
 * group's id is -1, so its rows count as changes, and *count is how many
 * groups would be created.  A group deleted by another session between the
 * two statements also gets -1, which the foreign key then refuses.
 */
static int64 *
group_ids(PtImport *imp, bool create, int64 *count)
{
	int			n = imp->group_names.nitems;
	Datum		args[2];
	int64	   *ids;
	uint64		i;

	if (n == 0)
		return NULL;
	args[0] = Int64GetDatum(imp->account_id);
	args[1] = PointerGetDatum(pt_column_array(&imp->group_names));
	*count = 0;
	if (create)
	{
		run_statement(insert_groups_sql, 2, group_arg_types, args, n, false, SPI_OK_INSERT);
		*count = SPI_processed;
	}

	/* not read-only: it must see the groups the statement above created */
	run_statement(resolve_groups_sql, 2, group_arg_types, args, n, false, SPI_OK_SELECT);
	if (SPI_processed != (uint64) n)
		elog(ERROR, "could not resolve client groups");
	ids = palloc(n * sizeof(int64));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		first_isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		Datum		first = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2,
										  &first_isnull);

		ids[i] = isnull ? -1 : DatumGetInt64(id);
		if (isnull && !create && DatumGetBool(first))
			(*count)++;
	}
	return ids;
}

/*
 * The statements' arguments: the account, the columns in file order and
 * each row's group_id (0: none).  The columns are used up.
 */
static void
row_args(PtImport *imp, const int64 *spelling_ids, Datum *args)
{
	int32	   *years;
	char	   *genders;
	int64	   *row_groups;
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
}

/*
 * Runs one statement over arrays of nrows values.  Up to
 * PT_CUSTOM_PLAN_MAX_ROWS the planner sees the values, so it can choose
 * joins by the real row count.  Beyond that the plan is generic: a custom
 * plan folds the arguments into constants, one more copy of every column,
 * and the generic plan's nested loops of index lookups grow linearly where
 * a hash join of a large account would spill to disk.
 */
static void
run_statement(const char *sql, int nargs, const Oid *types, Datum *args,
			  int nrows, bool read_only, int expected)
{
	SPIPlanPtr	plan;
	int			result;

	if (nrows <= PT_CUSTOM_PLAN_MAX_ROWS)
		result = SPI_execute_with_args(sql, nargs, (Oid *) types, args, NULL, read_only, 0);
	else
	{
		plan = SPI_prepare_cursor(sql, nargs, (Oid *) types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
		result = SPI_execute_plan(plan, args, NULL, read_only, 0);
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
