/*-------------------------------------------------------------------------
 *
 * ptimport.c
 *	  The SQL-callable pt_import_clients() and the extension's settings.
 *	  An import runs bytes -> UTF-8 text -> validated rows -> set-based
 *	  writes -> report, in one memory context deleted at its end.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include <limits.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(pt_import_clients);

/* ---- Settings ---- */

int			pt_max_rows = 1000;
int			pt_max_bytes_kb = 10 * 1024;
char	   *pt_account_id_setting = NULL;
int			pt_inbox_retention_days = 30;
int			pt_log_retention_days = 90;
int			pt_undo_max_rows = 100000;

/* What an entry point passes for an argument its declaration lacks. */
const NullableDatum pt_no_argument = {.isnull = true};

/* run_id of this session's latest completed import, 0 if none yet. */
int64		pt_latest_run_id = 0;

static int	current_year(void);
static void declaration_mismatch(FunctionCallInfo fcinfo, const char *detail) pg_attribute_noreturn();

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("ptimport.max_rows",
							"Most rows one file may have.",
							"A file with more non-blank rows is refused whole.",
							&pt_max_rows, 1000, 1, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ptimport.max_bytes",
							"Largest file pt_import_clients accepts.",
							"A larger file is refused before it is read.",
							&pt_max_bytes_kb, 10 * 1024, 1, 1024 * 1024,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);

	DefineCustomStringVariable("ptimport.account_id",
							   "The account this session imports for.",
							   "Used when pt_import_clients is called without account_id, "
							   "and by the row-level security policies.",
							   &pt_account_id_setting, "",
							   PGC_USERSET, 0, pt_check_account_setting, NULL, NULL);

	DefineCustomIntVariable("ptimport.inbox_retention_days",
							"Days a processed inbox file's contents are kept.",
							"Once a submitted file is done or failed and this many days "
							"have passed, its contents are deleted; its state and run "
							"summary stay.  0 deletes them as soon as the file is processed.",
							&pt_inbox_retention_days, 30, 0, 36500,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ptimport.log_retention_days",
							"Days the issue log and file names are kept.",
							"Once a run is this many days old, ptimport.purge() deletes its "
							"issue records and raw lines and the file names of its run and "
							"inbox file, and fails queued files never processed.",
							&pt_log_retention_days, 90, 0, 36500,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ptimport.undo_max_rows",
							"Most rows of a file whose import keeps what undoing it needs.",
							"The undo data of an import is built in memory; a file with "
							"more rows is imported without it, and cannot be undone.  "
							"0 keeps no undo data at all.",
							&pt_undo_max_rows, 100000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("ptimport");
}

/* ---- pt_import_clients ---- */

/*
 * pt_import_clients(data bytea, account_id bigint, dry_run boolean,
 *					 encoding text, source_name text
 *					 [1.1: , delimiter text, columns text[], mode text])
 *	  Imports a client file and returns one record per problem found.
 */
Datum
pt_import_clients(PG_FUNCTION_ARGS)
{
	PtSqlVersion version = pt_sql_version(fcinfo, 5, 8);
	PtImport	imp;
	MemoryContext old;
	PtReadOptions opts;

	pt_require_data(fcinfo->args[0]);

	/* The result set is made first, so a wrong calling context fails early. */
	InitMaterializedSRF(fcinfo, 0);
	if (((ReturnSetInfo *) fcinfo->resultinfo)->setDesc->natts != PT_RESULT_NATTS)
		declaration_mismatch(fcinfo,
							 psprintf("The library returns %d result columns; this declaration has %d.",
									  PT_RESULT_NATTS,
									  ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc->natts));

	memset(&imp, 0, sizeof(imp));
	imp.version = version;
	imp.account_id = pt_resolve_account(fcinfo->args[1], version);
	imp.dry_run = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	/* 1.0's declaration has no delimiter and no columns argument */
	pt_read_options(&opts, fcinfo->args[3],
					version >= PT_SQL_1_1 ? fcinfo->args[5] : pt_no_argument,
					version >= PT_SQL_1_1 ? fcinfo->args[6] : pt_no_argument);
	imp.source_name = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	imp.mode = version >= PT_SQL_1_1 ? pt_parse_mode(fcinfo->args[7]) : PT_MODE_UPSERT;
	imp.started_at = GetCurrentTimestamp();
	imp.written_at = GetCurrentTransactionStartTimestamp();
	imp.this_year = current_year();
	/* a dry run also runs on a standby, where nothing can be logged */
	imp.logged = !RecoveryInProgress() && !XactReadOnly;
	if (!imp.logged && !imp.dry_run)
		pt_refuse_read_only("import");

	imp.cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport import",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(imp.cxt);

	pt_read_input(&imp, (bytea *) PG_GETARG_POINTER(0), &opts);
	pt_collect_rows(&imp);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!imp.dry_run)
		pt_lock_account(imp.account_id, version);
	pt_log_run_begin(&imp);
	if (imp.dry_run)
		pt_count_changes(&imp);
	else
		pt_write_clients(&imp);
	pt_sort_issues(&imp);
	pt_log_run_end(&imp);
	SPI_finish();
	pt_latest_run_id = imp.run_id;

	MemoryContextSwitchTo(old);
	pt_report(&imp, fcinfo);
	MemoryContextDelete(imp.cxt);

	return (Datum) 0;
}

/*
 * The SQL version a function was called through, by its argument count:
 * nargs_1_0 for the 1.0 declaration, nargs_1_1 for the 1.1 one.  Anything
 * else is a declaration this library does not know.
 */
PtSqlVersion
pt_sql_version(FunctionCallInfo fcinfo, int nargs_1_0, int nargs_1_1)
{
	if (PG_NARGS() == nargs_1_1)
		return PT_SQL_1_1;
	if (PG_NARGS() == nargs_1_0)
		return PT_SQL_1_0;
	declaration_mismatch(fcinfo,
						 psprintf("The library serves ptimport's SQL versions 1.0 and 1.1; this declaration has %d arguments.",
								  PG_NARGS()));
	return PT_SQL_1_1;			/* keep the compiler quiet */
}

/* Refuses to write on a standby or in a read-only transaction, saying why. */
void
pt_refuse_read_only(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			 errmsg("cannot %s on a read-only server or in a read-only transaction", what),
			 errdetail(RecoveryInProgress() ? "The server is a standby." :
					   "The transaction is read-only."),
			 errhint("Import on the primary, or pass dry_run => true to check the file here.")));
}

/* Raises the error for a declaration that does not match this library. */
static void
declaration_mismatch(FunctionCallInfo fcinfo, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the SQL declaration of %s does not match the ptimport library",
					get_func_name(fcinfo->flinfo->fn_oid)),
			 errdetail("%s", detail),
			 errhint("Run ALTER EXTENSION ptimport UPDATE.")));
}

/* The mode argument: 'upsert' (also when null), 'insert' or 'update'. */
PtMode
pt_parse_mode(NullableDatum arg)
{
	char	   *mode;

	if (arg.isnull)
		return PT_MODE_UPSERT;
	mode = text_to_cstring(DatumGetTextPP(arg.value));
	if (strcmp(mode, "upsert") == 0)
		return PT_MODE_UPSERT;
	if (strcmp(mode, "insert") == 0)
		return PT_MODE_INSERT;
	if (strcmp(mode, "update") == 0)
		return PT_MODE_UPDATE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("\"%s\" is not an import mode", mode),
			 errhint("Pass mode 'upsert' (insert new clients and update existing ones), 'insert' (only new ones) or 'update' (only existing ones).")));
	return PT_MODE_UPSERT;		/* keep the compiler quiet */
}

const char *
pt_mode_name(PtMode mode)
{
	switch (mode)
	{
		case PT_MODE_INSERT:
			return "insert";
		case PT_MODE_UPDATE:
			return "update";
		case PT_MODE_UPSERT:
			break;
	}
	return "upsert";
}

/*
 * True when Citus is installed in this database, where statements must be
 * planned for their values (Citus cannot plan them generically).
 */
bool
pt_citus_loaded(void)
{
	static LocalTransactionId checked_in = InvalidLocalTransactionId;
	static bool loaded;

	/* pg_extension has no syscache: look once per transaction */
	if (checked_in != MyProc->lxid)
	{
		loaded = OidIsValid(get_extension_oid("citus", true));
		checked_in = MyProc->lxid;
	}
	return loaded;
}

/* This year in the session's time zone, as current_date sees it. */
static int
current_year(void)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(GetCurrentTransactionStartTimestamp(), &tz, &tm, &fsec,
					 NULL, NULL) != 0)
		elog(ERROR, "current timestamp out of range");
	return tm.tm_year;
}
