/*-------------------------------------------------------------------------
 *
 * write.c
 *	  Writes the validated rows in a fixed number of set-based statements:
 *	  one for new groups, one upsert for all clients.  The dry run counts
 *	  the same changes with one read-only query.
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
 * The file's rows joined to the account's ($1) groups.  $2..$9 are the
 * columns internal_id .. diagnosis_code, $10 each row's group as a 1-based
 * index into $11 (0: none), $11 the group names as spelled in the file, each
 * spelling once.  The arrays are unnested in the target list, which streams
 * them in step; unnest in FROM would first copy each into a tuplestore.
 *
 * A group that does not exist yet gets group_id -1, so that the dry run
 * counts the row as a change; after the real run's group insert every named
 * group exists (one deleted meanwhile makes the foreign key refuse the -1).
 */
#define PT_SOURCE_ROWS \
	"WITH grp AS (" \
	" SELECT sp.ord, sp.name, g.group_id" \
	" FROM pg_catalog.unnest($11) WITH ORDINALITY AS sp(name, ord)" \
	" LEFT JOIN ptimport.client_group AS g" \
	"   ON g.account_id = $1 AND " PT_LOWER("g.name") " = " PT_LOWER("sp.name") ")," \
	" src AS (" \
	" SELECT s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender," \
	"        s.email, s.mobile, s.diagnosis_code," \
	"        CASE WHEN s.group_ord = 0 THEN NULL" \
	"             ELSE COALESCE(grp.group_id, -1) END AS group_id" \
	" FROM (SELECT pg_catalog.unnest($2) AS internal_id, pg_catalog.unnest($3) AS first_name," \
	"              pg_catalog.unnest($4) AS last_name, pg_catalog.unnest($5) AS birth_year," \
	"              pg_catalog.unnest($6) AS gender, pg_catalog.unnest($7) AS email," \
	"              pg_catalog.unnest($8) AS mobile, pg_catalog.unnest($9) AS diagnosis_code," \
	"              pg_catalog.unnest($10) AS group_ord) AS s" \
	" LEFT JOIN grp ON grp.ord = s.group_ord)"

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
	"        pg_catalog.count(*) FILTER (WHERE c.client_id IS NOT NULL AND " PT_CHANGED("s") "),"
	"        (SELECT pg_catalog.count(DISTINCT " PT_LOWER("name") ")"
	"         FROM grp WHERE group_id IS NULL)"
	" FROM src AS s"
	" LEFT JOIN ptimport.client AS c"
	"   ON c.account_id = $1 AND c.internal_id = s.internal_id";

#define PT_NARGS 11

static const Oid row_arg_types[PT_NARGS] = {
	INT8OID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID
};

static void row_args(PtImport *imp, Datum *args);
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
	bool		has_groups;

	/* Lock key: a constant and the account, mapped one-to-one to two int4s. */
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum((int32) (0x70744900 ^ (uint32) ((uint64) imp->account_id >> 32))),
						Int32GetDatum((int32) (uint32) imp->account_id));

	if (imp->nclients == 0)
		return;
	has_groups = imp->group_names.nitems > 0;
	row_args(imp, args);

	if (has_groups)
	{
		if (SPI_execute_with_args(insert_groups_sql, 2,
								  (Oid[]) {INT8OID, TEXTARRAYOID},
								  (Datum[]) {args[0], args[PT_NARGS - 1]},
								  NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert client groups");
		imp->groups_created = SPI_processed;
	}

	if (SPI_execute_with_args(upsert_clients_sql, PT_NARGS, (Oid *) row_arg_types, args,
							  NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not upsert clients");
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
	row_args(imp, args);
	if (SPI_execute_with_args(count_changes_sql, PT_NARGS, (Oid *) row_arg_types, args,
							  NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count client changes");
	imp->inserted = result_int8(1);
	imp->updated = result_int8(2);
	imp->groups_created = result_int8(3);
	imp->unchanged = imp->nclients - imp->inserted - imp->updated;
}

/*
 * The statements' arguments: the account, the columns in file order, each
 * row's group index and the group spellings.  The columns are used up.
 */
static void
row_args(PtImport *imp, Datum *args)
{
	int			f;

	args[0] = Int64GetDatum(imp->account_id);
	for (f = 0; f < PT_FIELD_CLIENT_GROUP; f++)
	{
		if (f == PT_FIELD_BIRTH_YEAR)
			args[f + 1] = PointerGetDatum(pt_int4_array(imp->years, imp->nclients));
		else
			args[f + 1] = PointerGetDatum(pt_column_array(&imp->columns[f]));
	}
	args[PT_FIELD_CLIENT_GROUP + 1] = PointerGetDatum(pt_int4_array(imp->group_ords, imp->nclients));
	args[PT_NARGS - 1] = PointerGetDatum(pt_column_array(&imp->group_names));
}

/* Column col of the single row SPI returned, as an int64. */
static int64
result_int8(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}
