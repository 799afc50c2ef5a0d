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
#include "utils/builtins.h"
#include "utils/timestamp.h"

static const char insert_run_sql[] =
	"INSERT INTO ptimport.import_run (account_id, source_name, dry_run, started_at,"
	"  finished_at, rows_total, rows_inserted, rows_updated, rows_unchanged,"
	"  rows_failed, rows_warned, groups_created)"
	" VALUES ($1, $2, $3, $4, pg_catalog.clock_timestamp(), $5, $6, $7, $8, $9, $10, $11)"
	" RETURNING run_id";

static const char insert_issues_sql[] =
	"INSERT INTO ptimport.import_issue (run_id, account_id, line_no, internal_id,"
	"  severity, field, code, message, raw_line)"
	" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
	"        pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8),"
	"        pg_catalog.unnest($9)";

static Datum text_array(PtImport *imp, const char *(*get) (const PtReportedIssue *));
static const char *get_internal_id(const PtReportedIssue *issue);
static const char *get_severity(const PtReportedIssue *issue);
static const char *get_field(const PtReportedIssue *issue);
static const char *get_code(const PtReportedIssue *issue);
static const char *get_message(const PtReportedIssue *issue);
static const char *get_raw_line(const PtReportedIssue *issue);
static const char *plural(int64 n, const char *one, const char *many);

/* Writes the run and its problems to the log tables; sets imp->run_id. */
void
pt_log_run(PtImport *imp)
{
	Datum		run_args[11];
	char		run_nulls[11];
	Datum	   *lines;
	int			i;

	memset(run_nulls, ' ', sizeof(run_nulls));
	run_args[0] = Int64GetDatum(imp->account_id);
	run_args[1] = imp->source_name ? CStringGetTextDatum(imp->source_name) : (Datum) 0;
	run_nulls[1] = imp->source_name ? ' ' : 'n';
	run_args[2] = BoolGetDatum(imp->dry_run);
	run_args[3] = TimestampTzGetDatum(imp->started_at);
	run_args[4] = Int64GetDatum(imp->rows_total);
	run_args[5] = Int64GetDatum(imp->inserted);
	run_args[6] = Int64GetDatum(imp->updated);
	run_args[7] = Int64GetDatum(imp->unchanged);
	run_args[8] = Int64GetDatum(imp->rows_failed);
	run_args[9] = Int64GetDatum(imp->rows_warned);
	run_args[10] = Int64GetDatum(imp->groups_created);

	if (SPI_execute_with_args(insert_run_sql, 11,
							  (Oid[]) {INT8OID, TEXTOID, BOOLOID, TIMESTAMPTZOID,
								  INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID},
							  run_args, run_nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not log the import run");
	{
		bool		isnull;

		imp->run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	}

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
					"%lld %s skipped; %lld %s created",
					imp->dry_run ? "would import" : "imported",
					(long long) imported, (long long) imp->rows_total,
					plural(imp->rows_total, "row", "rows"),
					(long long) imp->inserted, (long long) imp->updated,
					(long long) imp->unchanged,
					(long long) imp->rows_failed, plural(imp->rows_failed, "row", "rows"),
					(long long) imp->groups_created,
					plural(imp->groups_created, "group", "groups")),
			 errdetail("The run is logged as run_id %lld in ptimport.import_run%s.",
					   (long long) imp->run_id,
					   imp->dry_run ? "; nothing was written to clients or groups" : "")));
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
