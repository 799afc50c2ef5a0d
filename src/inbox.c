/*-------------------------------------------------------------------------
 *
 * inbox.c
 *	  The C side of queued imports: submit() files an upload in ptimport.inbox
 *	  after the cheap checks an import makes first, purge_inbox() deletes
 *	  expired contents, last_run_id() lets process_inbox() link a file to its run.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "access/detoast.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/*
 * The C names carry the pt_ prefix: the library is loaded with global
 * symbols, and "submit" alone is too common a name to export.
 */
PG_FUNCTION_INFO_V1(pt_submit);
PG_FUNCTION_INFO_V1(pt_purge_inbox);
PG_FUNCTION_INFO_V1(pt_last_run_id);

/* The 1.1 schema: the account's row too, which the worker locks. */
static const char insert_file_sql[] =
	"WITH account AS (INSERT INTO ptimport.account (account_id) VALUES ($1)"
	"                 ON CONFLICT (account_id) DO NOTHING)"
	" INSERT INTO ptimport.inbox (account_id, source_name, encoding, size_bytes, content,"
	"                             submitted_by, delimiter, columns, mode)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
	" RETURNING file_id";

static const char insert_file_1_0_sql[] =
	"INSERT INTO ptimport.inbox (account_id, source_name, encoding, size_bytes, content)"
	" VALUES ($1, $2, $3, $4, $5)"
	" RETURNING file_id";

/*
 * A processed file expires $1 days after it was processed; $2 is the time
 * now.  (Taken by the caller, not clock_timestamp() in the statement: Citus
 * refuses a volatile function in an UPDATE of a distributed table.)
 */
static const char purge_sql[] =
	"UPDATE ptimport.inbox"
	" SET content = NULL, content_deleted_at = $2"
	" WHERE content IS NOT NULL AND state IN ('done', 'failed')"
	"   AND processed_at <= $2 - pg_catalog.make_interval(days => $1)";

/*
 * submit(data bytea, account_id bigint, source_name text, encoding text
 *		  [1.1: , delimiter text, columns text[], mode text]) returns bigint
 *	  Queues a file for the inbox worker and returns its file_id.  Only the
 *	  checks that need not read the file run here, the same ones as in
 *	  pt_import_clients: data is given, the account resolves, the arguments
 *	  are valid, the file is not larger than ptimport.max_bytes, and the
 *	  server can write.  Everything else happens on import.
 */
Datum
pt_submit(PG_FUNCTION_ARGS)
{
	PtSqlVersion version = pt_sql_version(fcinfo, 4, 7);
	int64		account_id;
	PtReadOptions opts;
	PtMode		mode;
	Datum		args[9];
	char		nulls[9];
	bool		isnull;
	int64		file_id;

	pt_require_data(fcinfo->args[0]);
	account_id = pt_resolve_account(fcinfo->args[1], version);
	pt_read_options(&opts, fcinfo->args[3],
					version >= PT_SQL_1_1 ? fcinfo->args[4] : pt_no_argument,
					version >= PT_SQL_1_1 ? fcinfo->args[5] : pt_no_argument);
	mode = version >= PT_SQL_1_1 ? pt_parse_mode(fcinfo->args[6]) : PT_MODE_UPSERT;
	pt_check_size(PG_GETARG_DATUM(0));
	if (RecoveryInProgress() || XactReadOnly)
		pt_refuse_read_only("queue a file");

	/* stored as the import will read it: the encoding by its logged name */
	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(account_id);
	args[1] = PG_GETARG_DATUM(2);
	nulls[1] = PG_ARGISNULL(2) ? 'n' : ' ';
	if (opts.encoding != NULL)
		args[2] = CStringGetTextDatum(opts.encoding);
	else if (version == PT_SQL_1_0)
		args[2] = CStringGetTextDatum("UTF8");	/* 1.0's column is NOT NULL */
	else
		nulls[2] = 'n';
	args[3] = Int64GetDatum((int64) (toast_raw_datum_size(PG_GETARG_DATUM(0)) - VARHDRSZ));
	args[4] = PG_GETARG_DATUM(0);	/* stored as given, still toasted if it was */
	if (version >= PT_SQL_1_1)
	{
		args[5] = DirectFunctionCall1(namein,
									  CStringGetDatum(GetUserNameFromId(pt_acting_roleid(), false)));
		args[6] = opts.delimiter ? CStringGetTextDatum(psprintf("%c", opts.delimiter)) : (Datum) 0;
		nulls[6] = opts.delimiter ? ' ' : 'n';
		args[7] = PG_GETARG_DATUM(5);
		nulls[7] = PG_ARGISNULL(5) ? 'n' : ' ';
		args[8] = CStringGetTextDatum(pt_mode_name(mode));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(version == PT_SQL_1_0 ? insert_file_1_0_sql : insert_file_sql,
							  version == PT_SQL_1_0 ? 5 : 9,
							  (Oid[]) {INT8OID, TEXTOID, TEXTOID, INT8OID, BYTEAOID,
								  NAMEOID, TEXTOID, TEXTARRAYOID, TEXTOID},
							  args, nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not queue the file");
	file_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	PG_RETURN_INT64(file_id);
}

/*
 * purge_inbox() returns bigint
 *	  Deletes the contents of processed files older than
 *	  ptimport.inbox_retention_days; returns how many files it emptied.
 */
Datum
pt_purge_inbox(PG_FUNCTION_ARGS)
{
	uint64		purged;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(purge_sql, 2, (Oid[]) {INT4OID, TIMESTAMPTZOID},
							  (Datum[]) {Int32GetDatum(pt_inbox_retention_days),
								  TimestampTzGetDatum(GetCurrentTimestamp())},
							  NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not delete expired inbox contents");
	purged = SPI_processed;
	SPI_finish();

	PG_RETURN_INT64((int64) purged);
}

/*
 * last_run_id() returns bigint
 *	  The run_id of this session's latest completed pt_import_clients call,
 *	  like lastval() for sequences; null before the first.  process_inbox()
 *	  reads it to link a file to its run.
 */
Datum
pt_last_run_id(PG_FUNCTION_ARGS)
{
	if (pt_latest_run_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(pt_latest_run_id);
}
