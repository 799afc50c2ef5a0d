/*-------------------------------------------------------------------------
 *
 * failed_rows.c
 *	  failed_rows(): the rows of a run that were not imported, given back as
 *	  a CSV file a spreadsheet opens (UTF-8 with a byte-order mark, CRLF),
 *	  with the file's header and a first column "Error" that says what to
 *	  fix, so that the fixed file can be imported again as it is.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(pt_failed_rows);

/* The run: its delimiter, its column map, whether its log was purged. */
static const char run_sql[] =
	"SELECT r.delimiter, r.column_map, r.log_purged_at IS NOT NULL, r.kind, r.dry_run"
	" FROM ptimport.import_run AS r"
	" WHERE r.account_id OPERATOR(pg_catalog.=) $1 AND r.run_id OPERATOR(pg_catalog.=) $2";

/*
 * The kept rows in line order (the header first), each with its messages:
 * the errors, and with $3 the warnings too.
 */
static const char rows_sql[] =
	"SELECT r.kind, r.raw,"
	"       (SELECT pg_catalog.string_agg(i.message, ' ' ORDER BY i.field NULLS FIRST)"
	"        FROM ptimport.import_issue AS i"
	"        WHERE i.account_id OPERATOR(pg_catalog.=) r.account_id"
	"          AND i.run_id OPERATOR(pg_catalog.=) r.run_id"
	"          AND i.line_no OPERATOR(pg_catalog.=) r.line_no"
	"          AND (i.severity OPERATOR(pg_catalog.=) 'error' OR $3))"
	" FROM ptimport.import_row AS r"
	" WHERE r.account_id OPERATOR(pg_catalog.=) $1 AND r.run_id OPERATOR(pg_catalog.=) $2"
	"   AND (r.kind OPERATOR(pg_catalog.<>) 'warned' OR $3)"
	" ORDER BY r.line_no";

static void append_quoted(StringInfo out, const char *s);
static void append_header(StringInfo out, char delimiter, Datum column_map, bool map_null);

/*
 * failed_rows(run_id bigint, include_warnings boolean, account_id bigint)
 *	  returns bytea
 *	  The rows of a run of the account that were not imported (with
 *	  include_warnings, also those imported with warnings), as they were in
 *	  the file, behind a first column "Error" with their messages, under the
 *	  file's header row (or, for a file without one, a header naming the
 *	  fields in the file's order).  An import reads "Error" as a column to
 *	  ignore, so the file can be fixed in a spreadsheet and imported again.
 */
Datum
pt_failed_rows(PG_FUNCTION_ARGS)
{
	int64		run_id;
	bool		warnings = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	int64		account_id;
	StringInfoData out;
	char		delimiter = ',';
	bool		isnull;
	bool		map_null;
	Datum		column_map;
	bool		have_header = false;
	uint64		i;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run_id must not be null")));
	run_id = PG_GETARG_INT64(0);
	account_id = pt_resolve_account(fcinfo->args[2], PT_SQL_1_1);

	/*
	 * The file is built in the caller's memory context, which outlives
	 * SPI_finish(); it is UTF-8 with a byte-order mark: how Excel knows a CSV
	 * file is UTF-8.
	 */
	initStringInfo(&out);
	appendBinaryStringInfo(&out, "\xEF\xBB\xBF", 3);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(run_sql, 2, (Oid[]) {INT8OID, INT8OID},
							  (Datum[]) {Int64GetDatum(account_id), Int64GetDatum(run_id)},
							  NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the run");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("run %lld is not a run of account %lld",
						(long long) run_id, (long long) account_id),
				 errhint("The account's runs are in ptimport.account_runs.")));
	{
		HeapTuple	run = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *d = SPI_getvalue(run, desc, 1);
		char	   *kind = SPI_getvalue(run, desc, 4);

		if (strcmp(kind, "import") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("run %lld did not read a file", (long long) run_id),
					 errdetail("It is a run of kind %s.", kind)));
		if (DatumGetBool(SPI_getbinval(run, desc, 3, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the rows of run %lld are no longer kept", (long long) run_id),
					 errdetail("They were purged with the rest of the run's log, after ptimport.log_retention_days (%d days).",
							   pt_log_retention_days)));
		if (d != NULL)
			delimiter = d[0];
		column_map = SPI_getbinval(run, desc, 2, &map_null);
		if (!map_null)
			column_map = PointerGetDatum(DatumGetArrayTypePCopy(column_map));
	}

	if (SPI_execute_with_args(rows_sql, 3, (Oid[]) {INT8OID, INT8OID, BOOLOID},
							  (Datum[]) {Int64GetDatum(account_id), Int64GetDatum(run_id),
								  BoolGetDatum(warnings)},
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the run's rows");

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(row, desc, 1);
		char	   *raw = SPI_getvalue(row, desc, 2);
		char	   *messages = SPI_getvalue(row, desc, 3);

		if (i == 0 && strcmp(kind, "header") != 0)
			append_header(&out, delimiter, column_map, map_null);
		if (strcmp(kind, "header") == 0)
		{
			append_quoted(&out, "Error");
			have_header = true;
		}
		else
			append_quoted(&out, messages ? messages : "");
		appendStringInfoChar(&out, delimiter);
		appendStringInfoString(&out, raw);
		appendBinaryStringInfo(&out, "\r\n", 2);
	}
	if (SPI_processed == 0 || (SPI_processed == 1 && have_header))
	{
		/* no row to fix: the header alone */
		if (!have_header)
			append_header(&out, delimiter, column_map, map_null);
	}
	SPI_finish();

	/* the database's encoding is UTF-8, or the text is converted to it */
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *utf8 = (char *) pg_do_encoding_conversion((unsigned char *) out.data + 3,
															  out.len - 3,
															  GetDatabaseEncoding(), PG_UTF8);
		StringInfoData converted;

		initStringInfo(&converted);
		appendBinaryStringInfo(&converted, "\xEF\xBB\xBF", 3);
		appendStringInfoString(&converted, utf8);
		out = converted;
	}
	result = (bytea *) palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	PG_RETURN_BYTEA_P(result);
}

/*
 * The header of a file that had none: "Error", then each column's field
 * as PT Direct names it (the run's column map; PT Direct's order when the
 * run had none), "Column N" for a column the import ignored.
 */
static void
append_header(StringInfo out, char delimiter, Datum column_map, bool map_null)
{
	int			f;

	append_quoted(out, "Error");
	if (map_null)
	{
		for (f = 0; f < PT_NFIELDS; f++)
		{
			appendStringInfoChar(out, delimiter);
			append_quoted(out, pt_field_title((PtField) f));
		}
	}
	else
	{
		Datum	   *names;
		bool	   *nulls;
		int			n;
		int			c;

		deconstruct_array(DatumGetArrayTypeP(column_map), TEXTOID, -1, false, TYPALIGN_INT,
						  &names, &nulls, &n);
		for (c = 0; c < n; c++)
		{
			PtField		field;

			appendStringInfoChar(out, delimiter);
			if (!nulls[c] && pt_field_by_name(TextDatumGetCString(names[c]), &field))
				append_quoted(out, pt_field_title(field));
			else
				append_quoted(out, psprintf("Column %d", c + 1));
		}
	}
	appendBinaryStringInfo(out, "\r\n", 2);
}

/* A CSV value in double quotes, with the quotes in it doubled. */
static void
append_quoted(StringInfo out, const char *s)
{
	appendStringInfoChar(out, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(out, '"');
		appendStringInfoChar(out, *s);
	}
	appendStringInfoChar(out, '"');
}
