/*-------------------------------------------------------------------------
 *
 * account.c
 *	  Which account a call acts for, whether its role may act for it, and
 *	  the per-account lock that makes one account's imports take turns.
 *	  current_account() serves the views and row-level security policies.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include <errno.h>
#include <stdlib.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(pt_current_account);
PG_FUNCTION_INFO_V1(pt_acting_account);
PG_FUNCTION_INFO_V1(pt_acting_role);
PG_FUNCTION_INFO_V1(pt_lock_account_sql);

/* Whether role $1 may act for account $2: a grant for it, or for every account. */
static const char access_sql[] =
	"SELECT EXISTS (SELECT FROM ptimport.account_access AS a"
	"               WHERE a.role_name OPERATOR(pg_catalog.=) $1"
	"                 AND (a.account_id OPERATOR(pg_catalog.=) $2 OR a.account_id IS NULL))";

/*
 * The account's row, locked until the end of the transaction: a plain row
 * lock, which process_next_file can test with SKIP LOCKED.  The row is made
 * on the account's first import, and locked then.
 */
static const char ensure_account_sql[] =
	"INSERT INTO ptimport.account (account_id) VALUES ($1)"
	" ON CONFLICT (account_id) DO NOTHING";
static const char lock_account_sql[] =
	"SELECT FROM ptimport.account WHERE account_id OPERATOR(pg_catalog.=) $1 FOR UPDATE";

/* The last access check, kept for the rest of the statement that made it. */
static struct
{
	LocalTransactionId lxid;
	CommandId	cid;
	Oid			role;
	int64		account_id;
	bool		allowed;
} access_cache;

static bool parse_account_id(const char *s, int64 *account_id);
static bool setting_account(int64 *account_id);
static bool subject_to_rls(void);
static bool may_act_for(Oid role, int64 account_id);
static void check_access(int64 account_id);

/* GUC check hook for ptimport.account_id: empty, or a whole number. */
bool
pt_check_account_setting(char **newval, void **extra, GucSource source)
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

/* The account in ptimport.account_id, if it is set. */
static bool
setting_account(int64 *account_id)
{
	return pt_account_id_setting != NULL && pt_account_id_setting[0] != '\0' &&
		parse_account_id(pt_account_id_setting, account_id);
}

/*
 * The account to act for: the account_id argument, else the setting
 * ptimport.account_id.  When both are given they must agree, so a session
 * acting for one account cannot write to another by passing its id.
 *
 * Through the 1.1 declarations the role that called (the session's role,
 * not the owner a SECURITY DEFINER function runs as) must also be allowed
 * to act for the account in ptimport.account_access.  Through the 1.0
 * declarations, which are not SECURITY DEFINER, the 1.0 rule applies: a
 * role under row-level security must name its account in the setting.
 */
int64
pt_resolve_account(NullableDatum arg, PtSqlVersion version)
{
	int64		setting = 0;
	bool		have_setting = setting_account(&setting);
	int64		account_id;

	if (version == PT_SQL_1_0 && !have_setting && subject_to_rls())
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
		account_id = setting;
	}
	else
	{
		account_id = DatumGetInt64(arg.value);
		if (have_setting && account_id != setting)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("account_id %lld is not the account this session acts for",
							(long long) account_id),
					 errdetail("ptimport.account_id is set to %lld.", (long long) setting),
					 errhint("Leave out account_id, or change ptimport.account_id.")));
	}

	if (version >= PT_SQL_1_1)
		check_access(account_id);
	return account_id;
}

/* True when row-level security applies to the current role on the tables. */
static bool
subject_to_rls(void)
{
	Oid			client = get_relname_relid("client", get_namespace_oid("ptimport", false));

	return OidIsValid(client) && check_enable_rls(client, InvalidOid, true) == RLS_ENABLED;
}

/*
 * The role a call acts as: the session's current role outside any SECURITY
 * DEFINER function (what SET ROLE chose, else the login role).
 */
Oid
pt_acting_roleid(void)
{
	return GetOuterUserId();
}

/* Raises insufficient_privilege unless the acting role may act for account_id. */
static void
check_access(int64 account_id)
{
	Oid			role = pt_acting_roleid();

	if (may_act_for(role, account_id))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" may not act for account %lld",
					GetUserNameFromId(role, false), (long long) account_id),
			 errdetail("ptimport.account_access has no grant of that account to the role."),
			 errhint("A superuser grants it with SELECT ptimport.grant_account('%s', %lld).",
					 GetUserNameFromId(role, false), (long long) account_id)));
}

/*
 * Superusers act for every account; other roles for the accounts granted
 * to them by name.  The answer is kept for the rest of the statement, as
 * the views call this once per row.  The grants are read as the owner of
 * ptimport.account_access, so that current_account() works for roles with
 * no privilege on it, with its search_path pinned by the statement's
 * qualified names and by SECURITY_RESTRICTED_OPERATION.
 */
static bool
may_act_for(Oid role, int64 account_id)
{
	LocalTransactionId lxid = MyProc->lxid;
	CommandId	cid = GetCurrentCommandId(false);
	bool		allowed;
	bool		isnull;
	int			spi;
	Oid			access_table;
	HeapTuple	tuple;
	Oid			owner;
	Oid			save_user;
	int			save_sec;

	if (superuser_arg(role))
		return true;
	if (access_cache.lxid == lxid && access_cache.cid == cid &&
		access_cache.role == role && access_cache.account_id == account_id)
		return access_cache.allowed;

	/* The grants are read with the rights of the table's owner. */
	access_table = get_relname_relid("account_access", get_namespace_oid("ptimport", false));
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(access_table));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", access_table);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		spi = SPI_connect();
		if (spi != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(spi));
		if (SPI_execute_with_args(access_sql, 2, (Oid[]) {NAMEOID, INT8OID},
								  (Datum[]) {DirectFunctionCall1(namein,
																 CStringGetDatum(GetUserNameFromId(role, false))),
									  Int64GetDatum(account_id)},
								  NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read ptimport.account_access");
		allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											 &isnull));
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();

	access_cache.lxid = lxid;
	access_cache.cid = cid;
	access_cache.role = role;
	access_cache.account_id = account_id;
	access_cache.allowed = allowed;
	return allowed;
}

/*
 * current_account() returns bigint
 *	  The setting ptimport.account_id, checked: null when it is not set, an
 *	  insufficient_privilege error when the current role may not act for it.
 *	  Views and row-level security policies filter by it.
 */
Datum
pt_current_account(PG_FUNCTION_ARGS)
{
	int64		account_id;

	if (!setting_account(&account_id))
		PG_RETURN_NULL();
	check_access(account_id);
	PG_RETURN_INT64(account_id);
}

/*
 * acting_account(account_id bigint) returns bigint
 *	  The account a call acts for, resolved and checked as for an import:
 *	  the argument, else ptimport.account_id, which must agree, and the
 *	  calling role must be allowed to act for it.  For the extension's
 *	  functions written in SQL.
 */
Datum
pt_acting_account(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(pt_resolve_account(fcinfo->args[0], PT_SQL_1_1));
}

/*
 * acting_role() returns name
 *	  The role a call acts as (see pt_acting_roleid), for the run log of the
 *	  extension's SECURITY DEFINER functions written in SQL, where
 *	  current_user is the owner.
 */
Datum
pt_acting_role(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(pt_acting_roleid(), false)));
}

/*
 * lock_account(account_id bigint) returns void
 *	  The account's lock, for the extension's functions written in SQL that
 *	  write an account's rows (revert_run, erase_client): they take turns
 *	  with its imports the same way.
 */
Datum
pt_lock_account_sql(PG_FUNCTION_ARGS)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pt_lock_account(PG_GETARG_INT64(0), PT_SQL_1_1);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Makes the imports into one account take turns: the caller waits until no
 * other transaction holds the account's lock, and holds it until its own
 * transaction ends.  Called inside SPI.
 *
 * Through the 1.1 schema the lock is a row lock on the account's row in
 * ptimport.account, which no other role can take; 1.0 used a transaction
 * advisory lock on the account.
 */
void
pt_lock_account(int64 account_id, PtSqlVersion version)
{
	Datum		arg = Int64GetDatum(account_id);

	if (version == PT_SQL_1_0)
	{
		/* key: a constant and the account, mapped one-to-one to two int4s */
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum((int32) (0x70744900 ^ (uint32) ((uint64) account_id >> 32))),
							Int32GetDatum((int32) (uint32) account_id));
		return;
	}
	if (SPI_execute_with_args(lock_account_sql, 1, (Oid[]) {INT8OID}, &arg, NULL,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock account %lld", (long long) account_id);
	if (SPI_processed == 1)
		return;
	if (SPI_execute_with_args(ensure_account_sql, 1, (Oid[]) {INT8OID}, &arg, NULL,
							  false, 0) != SPI_OK_INSERT ||
		SPI_execute_with_args(lock_account_sql, 1, (Oid[]) {INT8OID}, &arg, NULL,
							  false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not lock account %lld", (long long) account_id);
}
