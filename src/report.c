/*-------------------------------------------------------------------------
 *
 * report.c
 *	  Tells the caller and the run log how an import went: one row in
 *	  ptimport.import_run, the problems in ptimport.import_issue, the same
 *	  problems as the function's result, and a summary NOTICE.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* The run, as the 1.1 schema logs it when its writes begin ... */
static const char begin_run_sql[] =
	"INSERT INTO ptimport.import_run (account_id, source_name, dry_run, started_at,"
	"  finished_at, rows_total, rows_inserted, rows_updated, rows_unchanged,"
	"  rows_failed, rows_warned, groups_created, run_by, mode, encoding, delimiter,"
	"  header_line, column_map)"
	" VALUES ($1, $2, $3, $4, $4, $5, 0, 0, 0, $6, $7, 0, $8, $9, $10, $11, $12, $13)"
	" RETURNING run_id";

/* ... and completes when they end. */
static const char end_run_sql[] =
	"UPDATE ptimport.import_run"
	" SET finished_at = $3, rows_inserted = $4, rows_updated = $5, rows_unchanged = $6,"
	"     rows_failed = $7, rows_warned = $8, groups_created = $9"
	" WHERE account_id = $1 AND run_id = $2";

/* The run as the 1.0 schema logs it, in one go at the end. */
static const char insert_run_1_0_sql[] =
	"INSERT INTO ptimport.import_run (account_id, source_name, dry_run, started_at,"
	"  finished_at, rows_total, rows_inserted, rows_updated, rows_unchanged,"
	"  rows_failed, rows_warned, groups_created)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
	" RETURNING run_id";

/* The rows with problems, whole, and the header row: for failed_rows(). */
static const char insert_rows_sql[] =
	"INSERT INTO ptimport.import_row (account_id, run_id, line_no, kind, internal_id, raw)"
	" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
	"        pg_catalog.unnest($6)";

static const char insert_issues_sql[] =
	"INSERT INTO ptimport.import_issue (run_id, account_id, line_no, internal_id,"
	"  severity, field, code, message, raw_line)"
	" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
	"        pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8),"
	"        pg_catalog.unnest($9)";

static void log_rows(PtImport *imp);
static Datum nullable_text(const char *s, char *null_flag);
static Datum column_map(PtImport *imp, char *null_flag);
static int64 result_int8(void);
static Datum text_array(PtImport *imp, const char *(*get) (const PtReportedIssue *));
static const char *get_internal_id(const PtReportedIssue *issue);
static const char *get_severity(const PtReportedIssue *issue);
static const char *get_field(const PtReportedIssue *issue);
static const char *get_code(const PtReportedIssue *issue);
static const char *get_message(const PtReportedIssue *issue);
static const char *get_raw_line(const PtReportedIssue *issue);
static const char *plural(int64 n, const char *one, const char *many);

/*
 * Through the 1.1 schema, logs the run as it begins to write, so that what
 * it writes can refer to it; sets imp->run_id.  Nothing is logged on a
 * read-only server (a standby), where only a dry run can run.
 */
void
pt_log_run_begin(PtImport *imp)
{
	Datum		args[13];
	char		nulls[13];

	if (!imp->logged || imp->version == PT_SQL_1_0)
		return;
	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(imp->account_id);
	args[1] = nullable_text(imp->source_name, &nulls[1]);
	args[2] = BoolGetDatum(imp->dry_run);
	args[3] = TimestampTzGetDatum(imp->started_at);
	args[4] = Int64GetDatum(imp->rows_total);
	args[5] = Int64GetDatum(imp->rows_failed);
	args[6] = Int64GetDatum(imp->rows_warned);
	args[7] = DirectFunctionCall1(namein,
								  CStringGetDatum(GetUserNameFromId(pt_acting_roleid(), false)));
	args[8] = CStringGetTextDatum(pt_mode_name(imp->mode));
	args[9] = nullable_text(imp->read.encoding, &nulls[9]);
	args[10] = nullable_text(imp->read.delimiter ? psprintf("%c", imp->read.delimiter) : NULL,
							 &nulls[10]);
	args[11] = Int32GetDatum(imp->read.header_line);
	nulls[11] = imp->read.header_line > 0 ? ' ' : 'n';
	args[12] = column_map(imp, &nulls[12]);

	if (SPI_execute_with_args(begin_run_sql, 13,
							  (Oid[]) {INT8OID, TEXTOID, BOOLOID, TIMESTAMPTZOID, INT8OID,
								  INT8OID, INT8OID, NAMEOID, TEXTOID, TEXTOID, TEXTOID,
								  INT4OID, TEXTARRAYOID},
							  args, nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not log the import run");
	imp->run_id = result_int8();
}

/*
 * Completes the run's log with its outcome (through the 1.0 schema: writes
 * it whole) and logs its problems.
 */
void
pt_log_run_end(PtImport *imp)
{
	TimestampTz finished_at = GetCurrentTimestamp();
	Datum	   *lines;
	int			i;

	if (!imp->logged)
		return;
	if (imp->version == PT_SQL_1_0)
	{
		Datum		args[12];
		char		nulls[12];

		memset(nulls, ' ', sizeof(nulls));
		args[0] = Int64GetDatum(imp->account_id);
		args[1] = nullable_text(imp->source_name, &nulls[1]);
		args[2] = BoolGetDatum(imp->dry_run);
		args[3] = TimestampTzGetDatum(imp->started_at);
		args[4] = TimestampTzGetDatum(finished_at);
		args[5] = Int64GetDatum(imp->rows_total);
		args[6] = Int64GetDatum(imp->inserted);
		args[7] = Int64GetDatum(imp->updated);
		args[8] = Int64GetDatum(imp->unchanged);
		args[9] = Int64GetDatum(imp->rows_failed);
		args[10] = Int64GetDatum(imp->rows_warned);
		args[11] = Int64GetDatum(imp->groups_created);
		if (SPI_execute_with_args(insert_run_1_0_sql, 12,
								  (Oid[]) {INT8OID, TEXTOID, BOOLOID, TIMESTAMPTZOID,
									  TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID, INT8OID,
									  INT8OID, INT8OID, INT8OID},
								  args, nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
			SPI_processed != 1)
			elog(ERROR, "could not log the import run");
		imp->run_id = result_int8();
	}
	else if (SPI_execute_with_args(end_run_sql, 9,
								   (Oid[]) {INT8OID, INT8OID, TIMESTAMPTZOID, INT8OID,
									   INT8OID, INT8OID, INT8OID, INT8OID, INT8OID},
								   (Datum[]) {Int64GetDatum(imp->account_id),
									   Int64GetDatum(imp->run_id),
									   TimestampTzGetDatum(finished_at),
									   Int64GetDatum(imp->inserted),
									   Int64GetDatum(imp->updated),
									   Int64GetDatum(imp->unchanged),
									   Int64GetDatum(imp->rows_failed),
									   Int64GetDatum(imp->rows_warned),
								   Int64GetDatum(imp->groups_created)},
								   NULL, false, 0) != SPI_OK_UPDATE ||
			 SPI_processed != 1)
		elog(ERROR, "could not log the import run");

	if (imp->version >= PT_SQL_1_1)
		log_rows(imp);
	if (imp->nissues == 0)
		return;

	lines = palloc_extended(imp->nissues * sizeof(Datum), MCXT_ALLOC_HUGE);
	for (i = 0; i < imp->nissues; i++)
		lines[i] = Int32GetDatum(imp->issues[i].line_no);

	if (SPI_execute_with_args(insert_issues_sql, 9,
							  (Oid[]) {INT8OID, INT8OID, INT4ARRAYOID, TEXTARRAYOID,
								  TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
								  TEXTARRAYOID},
							  (Datum[]) {Int64GetDatum(imp->run_id),
								  Int64GetDatum(imp->account_id),
								  PointerGetDatum(construct_array(lines, imp->nissues, INT4OID,
																  sizeof(int32), true,
																  TYPALIGN_INT)),
								  text_array(imp, get_internal_id),
								  text_array(imp, get_severity),
								  text_array(imp, get_field),
								  text_array(imp, get_code),
								  text_array(imp, get_message),
								  text_array(imp, get_raw_line)},
							  NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not log the import's problems");
}

/*
 * Keeps the rows with problems, whole, and the header row, for
 * failed_rows().  A row whose internal_id looks like a national id keeps it
 * masked, and is not kept at all when it was imported (with warnings):
 * there is nothing to fix in it but the id, which must not be kept.
 */
static void
log_rows(PtImport *imp)
{
	int32	   *lines;
	int32	   *line_values;
	ArrayType  *line_array;
	PtTextColumn kinds;
	PtTextColumn ids;
	PtTextColumn raws;
	int			n = 0;
	int			i;

	if (imp->nproblem_rows == 0 && imp->read.header_line == 0)
		return;
	lines = palloc((imp->nproblem_rows + 1) * sizeof(int32));
	pt_column_init(&kinds);
	pt_column_init(&ids);
	pt_column_init(&raws);
	if (imp->read.header_line > 0)
	{
		size_t		len;
		char	   *raw = pt_db_text(imp->read.header_raw, imp->read.header_raw_len, &len);

		lines[n++] = imp->read.header_line;
		pt_column_add(&kinds, "header", 6);
		pt_column_add_null(&ids);
		pt_column_add(&raws, raw, len);
	}
	for (i = 0; i < imp->nproblem_rows; i++)
	{
		const PtProblemRow *row = &imp->problem_rows[i];
		char	   *raw;
		size_t		len;

		if (row->national_id && !row->failed)
			continue;
		if (row->masked_raw)
			raw = pt_db_text(row->masked_raw, strlen(row->masked_raw), &len);
		else
			raw = pt_db_text(imp->data + row->raw_offset, row->raw_length, &len);
		lines[n++] = row->line_no;
		if (row->failed)
			pt_column_add(&kinds, "failed", 6);
		else
			pt_column_add(&kinds, "warned", 6);
		if (row->internal_id != NULL)
			pt_column_add(&ids, row->internal_id, strlen(row->internal_id));
		else
			pt_column_add_null(&ids);
		pt_column_add(&raws, raw, len);
	}
	if (n == 0)
		return;
	line_array = pt_fixed_array(INT4OID, n, (void **) &line_values);
	memcpy(line_values, lines, n * sizeof(int32));
	if (SPI_execute_with_args(insert_rows_sql, 6,
							  (Oid[]) {INT8OID, INT8OID, INT4ARRAYOID, TEXTARRAYOID,
								  TEXTARRAYOID, TEXTARRAYOID},
							  (Datum[]) {Int64GetDatum(imp->account_id),
								  Int64GetDatum(imp->run_id),
								  PointerGetDatum(line_array),
								  PointerGetDatum(pt_column_array(&kinds)),
								  PointerGetDatum(pt_column_array(&ids)),
								  PointerGetDatum(pt_column_array(&raws))},
							  NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not keep the rows with problems");
}

/* A text Datum for s, or a null (nulls flag set to 'n') when s is NULL. */
static Datum
nullable_text(const char *s, char *null_flag)
{
	*null_flag = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * The column map for the run log, as text[]: each file column's field, or
 * NULL if ignored; none (NULL) when the columns are in PT Direct's order.
 */
static Datum
column_map(PtImport *imp, char *null_flag)
{
	const PtColumnMap *map = &imp->read.map;
	PtTextColumn col;
	int			i;

	*null_flag = map->positional ? 'n' : ' ';
	if (map->positional)
		return (Datum) 0;
	pt_column_init(&col);
	for (i = 0; i < map->ncolumns; i++)
	{
		const char *name = pt_field_name((PtField) map->field[i]);

		if (name == NULL)
			pt_column_add_null(&col);
		else
			pt_column_add(&col, name, strlen(name));
	}
	return PointerGetDatum(pt_column_array(&col));
}

/* Column 1 of the single row SPI returned, as an int64. */
static int64
result_int8(void)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Puts the problems into the function's result set (made by the caller with
 * InitMaterializedSRF) and says the summary.
 */
void
pt_report(PtImport *imp, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		imported = imp->inserted + imp->updated + imp->unchanged;
	int			i;

	for (i = 0; i < imp->nissues; i++)
	{
		const PtReportedIssue *issue = &imp->issues[i];
		Datum		values[7];
		bool		nulls[7] = {false};
		const char *field = pt_field_name(issue->field);

		values[0] = Int32GetDatum(issue->line_no);
		values[1] = issue->internal_id ? CStringGetTextDatum(issue->internal_id) : (Datum) 0;
		nulls[1] = issue->internal_id == NULL;
		values[2] = CStringGetTextDatum(pt_severity_name(issue->severity));
		values[3] = field ? CStringGetTextDatum(field) : (Datum) 0;
		nulls[3] = field == NULL;
		values[4] = CStringGetTextDatum(pt_code_name(issue->code));
		values[5] = CStringGetTextDatum(issue->message);
		values[6] = CStringGetTextDatum(issue->raw_line);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	ereport(NOTICE,
			(errmsg("%s %lld of %lld %s: %lld inserted, %lld updated, %lld unchanged; "
					"%lld %s skipped; %lld %s created%s%s",
					imp->dry_run ? "would import" : "imported",
					(long long) imported, (long long) imp->rows_total,
					plural(imp->rows_total, "row", "rows"),
					(long long) imp->inserted, (long long) imp->updated,
					(long long) imp->unchanged,
					(long long) imp->rows_failed, plural(imp->rows_failed, "row", "rows"),
					(long long) imp->groups_created,
					plural(imp->groups_created, "group", "groups"),
					imp->read.summary ? "; " : "",
					imp->read.summary ? imp->read.summary : ""),
			 imp->logged ?
			 errdetail("The run is logged as run_id %lld in ptimport.import_run%s.",
					   (long long) imp->run_id,
					   imp->dry_run ? "; nothing was written to clients or groups" : "") :
			 errdetail("The run is not logged: the server is read-only (a standby, or a read-only transaction).")));
}

static const char *
plural(int64 n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* One field of every reported problem as a text[]. */
static Datum
text_array(PtImport *imp, const char *(*get) (const PtReportedIssue *))
{
	PtTextColumn col;
	int			i;

	pt_column_init(&col);
	for (i = 0; i < imp->nissues; i++)
	{
		const char *s = get(&imp->issues[i]);

		if (s == NULL)
			pt_column_add_null(&col);
		else
			pt_column_add(&col, s, strlen(s));
	}
	return PointerGetDatum(pt_column_array(&col));
}

static const char *
get_internal_id(const PtReportedIssue *issue)
{
	return issue->internal_id;
}

static const char *
get_severity(const PtReportedIssue *issue)
{
	return pt_severity_name(issue->severity);
}

static const char *
get_field(const PtReportedIssue *issue)
{
	return pt_field_name(issue->field);
}

static const char *
get_code(const PtReportedIssue *issue)
{
	return pt_code_name(issue->code);
}

static const char *
get_message(const PtReportedIssue *issue)
{
	return issue->message;
}

static const char *
get_raw_line(const PtReportedIssue *issue)
{
	return issue->raw_line;
}
