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

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
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

/* run_id of this session's latest completed import, 0 if none yet. */
int64		pt_latest_run_id = 0;

static bool check_account_id(char **newval, void **extra, GucSource source);
static bool parse_account_id(const char *s, int64 *account_id);
static bool subject_to_rls(void);
static int	current_year(void);

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
							   PGC_USERSET, 0, check_account_id, NULL, NULL);

	DefineCustomIntVariable("ptimport.inbox_retention_days",
							"Days a processed inbox file's contents are kept.",
							"Once a submitted file is done or failed and this many days "
							"have passed, its contents are deleted; its state and run "
							"summary stay.  0 deletes them as soon as the file is processed.",
							&pt_inbox_retention_days, 30, 0, 36500,
							PGC_SUSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("ptimport");
}

/* GUC check hook: empty, or a whole number. */
static bool
check_account_id(char **newval, void **extra, GucSource source)
{
	int64		account_id;

	if (*newval == NULL || (*newval)[0] == '\0' || parse_account_id(*newval, &account_id))
		return true;
	GUC_check_errdetail("ptimport.account_id must be a whole number, such as 42.");
	return false;
}

static bool
parse_account_id(const char *s, int64 *account_id)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*account_id = (int64) v;
	return true;
}

/* ---- pt_import_clients ---- */

/*
 * pt_import_clients(data bytea, account_id bigint, dry_run boolean,
 *					 encoding text, source_name text)
 *	  Imports a client file and returns one record per problem found.
 */
Datum
pt_import_clients(PG_FUNCTION_ARGS)
{
	PtImport	imp;
	MemoryContext old;
	const char *encoding;

	pt_require_data(fcinfo->args[0]);

	/* The result set is made first, so a wrong calling context fails early. */
	InitMaterializedSRF(fcinfo, 0);

	memset(&imp, 0, sizeof(imp));
	imp.account_id = pt_resolve_account(fcinfo->args[1]);
	imp.dry_run = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	encoding = PG_ARGISNULL(3) ? "UTF8" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	imp.source_name = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	imp.started_at = GetCurrentTimestamp();
	imp.this_year = current_year();

	imp.cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport import",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(imp.cxt);

	pt_decode_input(&imp, (bytea *) PG_GETARG_POINTER(0), encoding);
	pt_collect_rows(&imp);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (imp.dry_run)
		pt_count_changes(&imp);
	else
		pt_write_clients(&imp);
	pt_log_run(&imp);
	SPI_finish();
	pt_latest_run_id = imp.run_id;

	MemoryContextSwitchTo(old);
	pt_report(&imp, fcinfo);
	MemoryContextDelete(imp.cxt);

	return (Datum) 0;
}

/*
 * The account to import into: the account_id argument, else the setting
 * ptimport.account_id.  When both are given they must agree, so a session
 * acting for one account cannot write to another by passing its id.
 */
int64
pt_resolve_account(NullableDatum arg)
{
	int64		setting = 0;
	bool		have_setting = pt_account_id_setting != NULL &&
		pt_account_id_setting[0] != '\0' &&
		parse_account_id(pt_account_id_setting, &setting);
	int64		account_id;

	/* A role under row-level security must say which account it acts for. */
	if (!have_setting && subject_to_rls())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" imports only for the account in ptimport.account_id",
						GetUserNameFromId(GetUserId(), false)),
				 errdetail("Row-level security limits the role to that account, and it is not set."),
				 errhint("SET ptimport.account_id to the account first.")));

	if (arg.isnull)
	{
		if (!have_setting)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no account to import into"),
					 errdetail("The account_id argument is null and ptimport.account_id is not set."),
					 errhint("Pass account_id, or SET ptimport.account_id for the session.")));
		return setting;
	}

	account_id = DatumGetInt64(arg.value);
	if (have_setting && account_id != setting)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("account_id %lld is not the account this session acts for",
						(long long) account_id),
				 errdetail("ptimport.account_id is set to %lld.", (long long) setting),
				 errhint("Leave out account_id, or change ptimport.account_id.")));
	return account_id;
}

/* True when row-level security applies to the current role on the tables. */
static bool
subject_to_rls(void)
{
	Oid			client = get_relname_relid("client", get_namespace_oid("ptimport", false));

	return OidIsValid(client) && check_enable_rls(client, InvalidOid, true) == RLS_ENABLED;
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
