/*-------------------------------------------------------------------------
 *
 * ptimport.h
 *	  What the PostgreSQL side of an import shares between its stages:
 *	  decoding the bytes, collecting validated rows, writing, reporting.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_H
#define PTIMPORT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "detect.h"
#include "header.h"
#include "validate.h"

#if PG_VERSION_NUM < 150000
#error "ptimport needs PostgreSQL 15 or later"
#endif
#ifndef USE_ICU
#error "ptimport needs a PostgreSQL built with ICU (configure --with-icu)"
#endif

/*
 * The version of the SQL declarations a C function was called through.
 * During an upgrade the new library serves the old declarations until
 * ALTER EXTENSION ptimport UPDATE runs; each entry point tells them apart
 * by their argument count and serves each with its own schema's statements.
 */
typedef enum PtSqlVersion
{
	PT_SQL_1_0,
	PT_SQL_1_1
} PtSqlVersion;

/* What an import may do to the account's clients. */
typedef enum PtMode
{
	PT_MODE_UPSERT,				/* insert new clients, update existing ones */
	PT_MODE_INSERT,				/* only insert; an existing one is a row error */
	PT_MODE_UPDATE				/* only update; an unknown one is a row error */
} PtMode;

/* Settings (ptimport.c). */
extern int	pt_max_rows;
extern int	pt_max_bytes_kb;
extern char *pt_account_id_setting;
extern int	pt_inbox_retention_days;
extern int	pt_log_retention_days;
extern int	pt_undo_max_rows;

/* ptimport.c */
extern int64 pt_latest_run_id;
extern const NullableDatum pt_no_argument;
extern PtSqlVersion pt_sql_version(FunctionCallInfo fcinfo, int nargs_1_0, int nargs_1_1);
extern void pt_refuse_read_only(const char *what) pg_attribute_noreturn();
extern PtMode pt_parse_mode(NullableDatum arg);
extern const char *pt_mode_name(PtMode mode);
extern bool pt_citus_loaded(void);

/* account.c */
extern bool pt_check_account_setting(char **newval, void **extra, GucSource source);
extern int64 pt_resolve_account(NullableDatum arg, PtSqlVersion version);
extern Oid	pt_acting_roleid(void);
extern void pt_lock_account(int64 account_id, PtSqlVersion version);

/*
 * A text[] built in place: items are appended in the array's own storage
 * format, so a million values cost no more than their bytes.
 */
typedef struct PtTextColumn
{
	StringInfoData items;		/* 4-byte varlena items, 4-byte aligned */
	bits8	   *nulls;			/* array null bitmap, 1 = not null */
	int			nitems;
	int			maxitems;
	bool		hasnull;
} PtTextColumn;

/* One problem found in the file, as it is reported and logged. */
typedef struct PtReportedIssue
{
	int32		seq;			/* the order it was found in */
	int32		line_no;
	char	   *internal_id;
	PtSeverity	severity;
	PtField		field;
	PtCode		code;
	char	   *message;
	char	   *raw_line;
} PtReportedIssue;

/*
 * How the caller asked for the file to be read: pt_read_options() fills it
 * from the encoding, delimiter and columns arguments.
 */
typedef struct PtReadOptions
{
	const char *encoding;		/* as logged (see PtReadInfo); NULL: detect */
	int			pg_encoding;	/* PostgreSQL's id of it; -1: converted by ICU */
	char		delimiter;		/* ',' ';' '\t' '|'; 0: detect */
	bool		have_columns;	/* the columns argument was given: */
	PtColumnMap columns;		/* ... which file column holds which field */
} PtReadOptions;

/* What became of the file's first row. */
typedef enum PtHeaderUse
{
	PT_HEADER_NONE,				/* no header: the first row is data */
	PT_HEADER_MAPPED,			/* a header row, whose names map the columns */
	PT_HEADER_SKIPPED,			/* a header row, skipped: columns was given */
	PT_HEADER_UNRECOGNISED		/* reported as header_row */
} PtHeaderUse;

/*
 * How the file was read, for the run log and the NOTICE (input.c and
 * collect.c fill it).
 */
typedef struct PtReadInfo
{
	const char *encoding;		/* PostgreSQL's name (UTF8, WIN1252, LATIN1 ...),
								 * else UTF-16LE, UTF-16BE, UTF-32LE, UTF-32BE
								 * or MACINTOSH */
	bool		encoding_detected;	/* false: the encoding argument said it */
	char		delimiter;		/* ',' ';' '\t' or '|' */
	bool		delimiter_detected;
	bool		columns_given;	/* the columns argument mapped the columns */
	PtHeaderUse header;
	int32		header_line;	/* line of the header row used or skipped; 0: none */
	const char *header_raw;		/* its text in imp->data (not NUL-terminated) */
	size_t		header_raw_len;
	PtColumnMap map;			/* which column holds which field */
	int			named_columns;	/* header cells with a name */
	int			ignored_columns;	/* columns with a name that were not read */
	bool		first_row_seen; /* (collect.c's state) */
	char	   *summary;		/* for the NOTICE: "read as Windows-1252,
								 * semicolon-separated, header mapped: 7
								 * columns, 2 ignored" */
} PtReadInfo;

/*
 * A row that failed or got a warning, kept for a file of failed rows: its
 * text is imp->data + raw_offset, raw_length bytes of UTF-8 without the
 * line end, complete (not cut like an issue's raw_line).
 */
typedef struct PtProblemRow
{
	int32		line_no;
	bool		failed;			/* false: imported with a warning */
	size_t		raw_offset;
	size_t		raw_length;
	const char *internal_id;	/* as the issue log keeps it (masked), or NULL */
	bool		national_id;	/* it looks like a national id ... */
	char	   *masked_raw;		/* ... and the row's text with it masked */
} PtProblemRow;

/* Where a collected client row came from, kept when the mode may refuse it. */
typedef struct PtClientRef
{
	uint32		raw_length;
	size_t		raw_offset;
	bool		warned;			/* the row has warnings */
} PtClientRef;

/* The state of one call of pt_import_clients. */
typedef struct PtImport
{
	MemoryContext cxt;			/* everything below lives here */
	PtSqlVersion version;		/* of the declaration called */
	int64		account_id;
	bool		dry_run;
	PtMode		mode;
	char	   *source_name;
	TimestampTz started_at;		/* when the call began */
	TimestampTz written_at;		/* created_at/updated_at of what it writes */
	int			this_year;
	bool		logged;			/* the run goes into the run log */

	/* the file, decoded to UTF-8, and how it was read */
	const char *data;
	size_t		len;
	PtReadInfo	read;

	/* row counts */
	int64		rows_total;
	int64		rows_failed;
	int64		rows_warned;

	/* the rows to write, column by column */
	int			nclients;
	int			maxclients;
	PtTextColumn columns[PT_NFIELDS];	/* text fields; not birth_year, gender, client_group */
	int32	   *years;
	char	   *genders;		/* 'm' or 'f' */
	int32	   *group_ords;		/* 1-based index into group_names, 0: none */
	int32	   *client_lines;	/* the line each row starts on */
	PtClientRef *client_refs;	/* each row's origin, unless the mode is upsert */

	/* the group names as spelled in the file, each once, first seen first */
	PtTextColumn group_names;

	/* lookups used while reading, freed before writing */
	MemoryContext lookup_cxt;
	StringInfoData seen_keys;	/* the strings the two tables hold */
	struct pt_seen_hash *seen_ids;	/* internal_id -> line of its first row */
	struct pt_seen_hash *spellings; /* group name -> its index in group_names */

	/* problems, in line order */
	PtReportedIssue *issues;
	int			nissues;
	int			maxissues;

	/*
	 * the rows with problems: the first nproblem_rows_read found by reading
	 * the file, in line order, then those the mode refused, in line order
	 */
	PtProblemRow *problem_rows;
	int			nproblem_rows;
	int			maxproblem_rows;
	int			nproblem_rows_read;

	/* what the writes keep for revert_run() */
	ArrayType  *lines;			/* client_lines as an int4[] */
	ArrayType  *created_groups; /* int8[] of the groups created */

	/* outcome */
	int64		refused;		/* valid rows the mode did not allow */
	int64		inserted;
	int64		updated;
	int64		unchanged;
	int64		groups_created;
	int64		run_id;
} PtImport;

/* input.c */
extern void pt_require_data(NullableDatum data);
extern int	pt_source_encoding(const char *encoding);
extern void pt_check_size(Datum raw);
extern void pt_read_options(PtReadOptions *opts, NullableDatum encoding,
							NullableDatum delimiter, NullableDatum columns);
extern void pt_read_input(PtImport *imp, bytea *raw, const PtReadOptions *opts);
extern void pt_read_summary(PtImport *imp);
extern char *pt_field_list(const PtField *fields, int n);

/* collect.c */
extern void pt_collect_rows(PtImport *imp);
extern void pt_refuse_client(PtImport *imp, int client, const char *internal_id);
extern void pt_sort_issues(PtImport *imp);
extern char *pt_replace_all(const char *s, const char *from, const char *to);
extern char *pt_db_text(const char *s, size_t len, size_t *out_len);
extern void *pt_reader_realloc(void *ptr, size_t size);
extern void pt_reader_free(void *ptr);

/* column.c */
extern void pt_column_init(PtTextColumn *col);
extern void pt_column_add(PtTextColumn *col, const char *s, size_t len);
extern void pt_column_add_null(PtTextColumn *col);
extern ArrayType *pt_column_array(PtTextColumn *col);
extern ArrayType *pt_fixed_array(Oid elemtype, int n, void **data);

/* write.c */
extern void pt_write_clients(PtImport *imp);
extern void pt_count_changes(PtImport *imp);

/* report.c */
#define PT_RESULT_NATTS 7		/* the columns every import-like function returns */
extern void pt_log_run_begin(PtImport *imp);
extern void pt_log_run_end(PtImport *imp);
extern void pt_report(PtImport *imp, FunctionCallInfo fcinfo);

#endif							/* PTIMPORT_H */
