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
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "validate.h"

/* Settings (ptimport.c). */
extern int	pt_max_rows;
extern int	pt_max_bytes_kb;
extern char *pt_account_id_setting;
extern int	pt_inbox_retention_days;

/* ptimport.c */
extern int64 pt_latest_run_id;
extern int64 pt_resolve_account(NullableDatum arg);

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
	int32		line_no;
	char	   *internal_id;
	PtSeverity	severity;
	PtField		field;
	PtCode		code;
	char	   *message;
	char	   *raw_line;
} PtReportedIssue;

/* The state of one call of pt_import_clients. */
typedef struct PtImport
{
	MemoryContext cxt;			/* everything below lives here */
	int64		account_id;
	bool		dry_run;
	char	   *source_name;
	TimestampTz started_at;
	int			this_year;

	/* the file, decoded to UTF-8 */
	const char *data;
	size_t		len;

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

	/* outcome */
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
extern void pt_decode_input(PtImport *imp, bytea *raw, const char *encoding);

/* collect.c */
extern void pt_collect_rows(PtImport *imp);

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
extern void pt_log_run(PtImport *imp);
extern void pt_report(PtImport *imp, FunctionCallInfo fcinfo);

#endif							/* PTIMPORT_H */
