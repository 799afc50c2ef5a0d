/*-------------------------------------------------------------------------
 *
 * collect.c
 *	  Drives the CSV reader over the decoded file and validates each row:
 *	  valid rows go into the column arrays the writer sends in one go, every
 *	  problem into the report.  A header row first maps the columns (or is
 *	  skipped, when the columns argument did that).
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

/* Bytes fed to the reader between two interrupt checks. */
#define PT_STEP_BYTES (256 * 1024)

/* Longest raw line kept in the report, in bytes. */
#define PT_RAW_LINE_MAX 1000

/*
 * A string seen in the file (an internal_id or a group's spelling): its text
 * is kept once, NUL-terminated, in imp->seen_keys, and found by its offset.
 * Open addressing (simplehash) keeps a million ids in one array, so a lookup
 * costs about one cache miss, not three as with a chained table.
 */
typedef struct PtSeen
{
	uint32		key;			/* offset of the text in imp->seen_keys */
	uint32		hash;
	int32		value;			/* the line of its first row, or its index */
	char		status;			/* used by simplehash */
} PtSeen;

#define SEEN_TEXT(tb, k) (((StringInfo) (tb)->private_data)->data + (k))
#define SH_PREFIX pt_seen
#define SH_ELEMENT_TYPE PtSeen
#define SH_KEY_TYPE uint32
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) SEEN_TEXT(tb, k), strlen(SEEN_TEXT(tb, k)))
#define SH_EQUAL(tb, a, b) (strcmp(SEEN_TEXT(tb, a), SEEN_TEXT(tb, b)) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static void collect_row(const PtCsvRow *row, void *arg);
static bool take_header(PtImport *imp, const PtCsvRow *row);
static void refuse_header(const PtImport *imp, const PtCsvRow *row,
						  const PtHeaderMatch *match);
static void add_client(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static void add_issues(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static PtReportedIssue *new_issue(PtImport *imp);
static void add_problem_row(PtImport *imp, const PtCsvRow *row, bool failed,
							const char *internal_id, const char *clear_id);
static char *clipped(const char *s, size_t len, size_t max);
static bool seen_lookup(PtImport *imp, pt_seen_hash *seen, const char *key, int64 *value);

/* Reads every row of imp->data; raises the whole-file errors. */
void
pt_collect_rows(PtImport *imp)
{
	PtCsvReader reader;
	PtCsvStatus status;
	MemoryContext old;
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
		pt_column_init(&imp->columns[f]);
	pt_column_init(&imp->group_names);
	imp->maxclients = 64;
	imp->years = palloc(imp->maxclients * sizeof(int32));
	imp->genders = palloc(imp->maxclients * sizeof(char));
	imp->group_ords = palloc(imp->maxclients * sizeof(int32));
	imp->client_lines = palloc(imp->maxclients * sizeof(int32));
	if (imp->mode != PT_MODE_UPSERT)
		imp->client_refs = palloc(imp->maxclients * sizeof(PtClientRef));
	imp->maxissues = 16;
	imp->issues = palloc(imp->maxissues * sizeof(PtReportedIssue));

	/* The id table starts sized for the rows the file may hold; it grows if need be. */
	imp->lookup_cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport lookups",
											ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(imp->lookup_cxt);
	initStringInfo(&imp->seen_keys);
	MemoryContextSwitchTo(old);
	imp->seen_ids = pt_seen_create(imp->lookup_cxt,
								   (uint32) Min((size_t) pt_max_rows, imp->len / 12 + 1),
								   &imp->seen_keys);
	imp->spellings = pt_seen_create(imp->lookup_cxt, 64, &imp->seen_keys);

	pt_csv_begin(&reader, imp->data, imp->len, imp->read.delimiter,
				 pt_reader_realloc, pt_reader_free, collect_row, imp);
	do
	{
		CHECK_FOR_INTERRUPTS();
		status = pt_csv_step(&reader, PT_STEP_BYTES);
	} while (status == PT_CSV_MORE);
	pt_csv_end(&reader);
	if (status == PT_CSV_NOMEM)
		elog(ERROR, "CSV reader ran out of memory");

	/* The lookups are done with: free them before the writes need memory. */
	MemoryContextDelete(imp->lookup_cxt);
	imp->lookup_cxt = NULL;
	imp->seen_ids = imp->spellings = NULL;

	if (imp->rows_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file contains no rows"),
				 imp->read.header_line > 0 ?
				 errdetail("The file holds only a header row.") :
				 errdetail("The file is empty or holds only blank lines and empty rows."),
				 errhint("Check that the right file was uploaded.")));
	if (imp->rows_total > pt_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file has too many rows"),
				 errdetail("The file has %lld rows; at most %d can be imported at once (ptimport.max_rows).",
						   (long long) imp->rows_total, pt_max_rows),
				 errhint("Split the file into files of at most %d rows each.", pt_max_rows)));

	imp->nproblem_rows_read = imp->nproblem_rows;

	/* How the file was read, for the NOTICE. */
	pt_read_summary(imp);
}

/* s with every occurrence of from replaced by to (palloc'd). */
char *
pt_replace_all(const char *s, const char *from, const char *to)
{
	StringInfoData out;
	size_t		from_len = strlen(from);
	const char *hit;

	if (from_len == 0)
		return pstrdup(s);
	initStringInfo(&out);
	while ((hit = strstr(s, from)) != NULL)
	{
		appendBinaryStringInfo(&out, s, hit - s);
		appendStringInfoString(&out, to);
		s = hit + from_len;
	}
	appendStringInfoString(&out, s);
	return out.data;
}

/* Reader callback: validates one row and files its outcome. */
static void
collect_row(const PtCsvRow *row, void *arg)
{
	PtImport   *imp = arg;
	PtRowResult result;
	bool		first_row = !imp->read.first_row_seen;

	imp->read.first_row_seen = true;
	if (first_row && take_header(imp, row))
		return;

	/* Past the limit rows are only counted: the import will be refused. */
	if (++imp->rows_total > pt_max_rows)
		return;

	pt_validate_row(row, &imp->read.map, imp->this_year, first_row, &result);
	if (first_row && result.nissues > 0 && result.issues[0].code == PT_HEADER_ROW)
		imp->read.header = PT_HEADER_UNRECOGNISED;

	if (result.keep[PT_FIELD_INTERNAL_ID])
	{
		int64		first_line = row->line_no;

		if (seen_lookup(imp, imp->seen_ids, result.value[PT_FIELD_INTERNAL_ID], &first_line))
			pt_add_duplicate(&result, (long) first_line);
	}

	if (result.failed)
		imp->rows_failed++;
	else
	{
		add_client(imp, row, &result);
		if (result.nissues > 0)
			imp->rows_warned++;
		if (imp->client_refs != NULL)
		{
			PtClientRef *ref = &imp->client_refs[imp->nclients - 1];

			ref->raw_offset = row->raw_offset;
			ref->raw_length = (uint32) Min(row->raw_length, PG_UINT32_MAX);
			ref->warned = result.nissues > 0;
		}
	}
	if (result.nissues > 0)
		add_issues(imp, row, &result);
}

/*
 * Handles the file's first row when it is a header: maps the columns by
 * its names (warning once about the names it does not use, refusing the
 * file when it is ambiguous or lacks a required field), or skips it when
 * the columns argument maps them.  Returns true when the row was a header.
 */
static bool
take_header(PtImport *imp, const PtCsvRow *row)
{
	PtReadInfo *info = &imp->read;
	PtHeaderMatch match;
	int			col;

	if (row->problem != PT_CSV_OK)
		return false;
	pt_header_match(row, &match);
	if (info->columns_given)
	{
		if (!match.is_header && !pt_looks_like_header(row, &info->map))
			return false;
		info->header = PT_HEADER_SKIPPED;
	}
	else
	{
		if (!match.is_header)
			return false;
		if (match.ambiguous != PT_FIELD_NONE || match.nmissing > 0)
			refuse_header(imp, row, &match);
		info->header = PT_HEADER_MAPPED;
		match.map.delimiter = info->delimiter;
		info->map = match.map;
		for (col = 0; col < match.map.ncolumns; col++)
			if (row->length[col] > 0)
				info->named_columns++;
		info->ignored_columns = info->named_columns - match.nnamed;
	}
	info->header_line = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
	info->header_raw = imp->data + row->raw_offset;
	info->header_raw_len = row->raw_length;

	if (info->header == PT_HEADER_MAPPED && match.nignored > 0)
	{
		PtRowResult result;

		pt_result_init(&result);
		pt_ignored_columns_issue(row, &info->map, &result);
		add_issues(imp, row, &result);
	}
	return true;
}

/* Raises the error for a header that is ambiguous or lacks a required field. */
static void
refuse_header(const PtImport *imp, const PtCsvRow *row, const PtHeaderMatch *match)
{
	StringInfoData found;
	char		shown[PT_SHOW_SIZE];
	char		shown2[PT_SHOW_SIZE];
	int			col;

	if (match->ambiguous != PT_FIELD_NONE)
	{
		int			a = match->ambiguous_columns[0];
		int			b = match->ambiguous_columns[1];

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header row names %s twice", pt_field_name(match->ambiguous)),
				 errdetail("Columns %d (%s) and %d (%s) of the header on line %ld both name the %s.",
						   a + 1, pt_show_value(shown, sizeof(shown), row->value[a], row->length[a]),
						   b + 1, pt_show_value(shown2, sizeof(shown2), row->value[b], row->length[b]),
						   row->line_no, pt_field_name(match->ambiguous)),
				 errhint("Rename or remove one of them, or pass columns => ARRAY[...] naming the field of each column.")));
	}

	initStringInfo(&found);
	for (col = 0; col < match->map.ncolumns; col++)
	{
		const char *field = pt_field_name((PtField) match->map.field[col]);

		if (field != NULL)
			appendStringInfo(&found, "%s%s is %s", found.len > 0 ? ", " : "",
							 pt_show_value(shown, sizeof(shown), row->value[col],
										   row->length[col]), field);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("header row has no column for %s",
					pt_field_list(match->missing, match->nmissing)),
			 errdetail("The header on line %ld was recognised (%s), but a file needs internal_id, first_name, last_name, birth_year and gender.",
					   row->line_no, found.data),
			 errhint("Add the missing columns (for internal_id: a key of your own for each client), rename columns to the names the README lists, or pass columns => ARRAY[...] naming the field of each column.")));
}

/* Appends a valid row to the columns; values not kept become NULL. */
static void
add_client(PtImport *imp, const PtCsvRow *row, const PtRowResult *result)
{
	int32		group_ord = 0;
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
	{
		PtTextColumn *col = &imp->columns[f];
		size_t		len;
		char	   *s;

		if (f == PT_FIELD_BIRTH_YEAR || f == PT_FIELD_GENDER || f == PT_FIELD_CLIENT_GROUP)
			continue;
		if (result->keep[f])
		{
			s = pt_db_text(result->value[f], result->length[f], &len);
			pt_column_add(col, s, len);
		}
		else
			pt_column_add_null(col);
	}

	/* Each spelling of a group is sent once; rows carry its index. */
	if (result->keep[PT_FIELD_CLIENT_GROUP])
	{
		int64		ord = imp->group_names.nitems + 1;

		if (!seen_lookup(imp, imp->spellings, result->value[PT_FIELD_CLIENT_GROUP], &ord))
		{
			size_t		len;
			char	   *s = pt_db_text(result->value[PT_FIELD_CLIENT_GROUP],
									result->length[PT_FIELD_CLIENT_GROUP], &len);

			pt_column_add(&imp->group_names, s, len);
		}
		group_ord = (int32) ord;
	}

	if (imp->nclients == imp->maxclients)
	{
		imp->maxclients *= 2;
		imp->years = repalloc_huge(imp->years, imp->maxclients * sizeof(int32));
		imp->genders = repalloc_huge(imp->genders, imp->maxclients * sizeof(char));
		imp->group_ords = repalloc_huge(imp->group_ords, imp->maxclients * sizeof(int32));
		imp->client_lines = repalloc_huge(imp->client_lines, imp->maxclients * sizeof(int32));
		if (imp->client_refs != NULL)
			imp->client_refs = repalloc_huge(imp->client_refs,
											 imp->maxclients * sizeof(PtClientRef));
	}
	imp->years[imp->nclients] = result->birth_year;
	imp->genders[imp->nclients] = result->gender;
	imp->group_ords[imp->nclients] = group_ord;
	imp->client_lines[imp->nclients] = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
	imp->nclients++;
}

/*
 * Remembers a row with problems for a file of failed rows, with its
 * internal_id as the issue log keeps it; clear_id is the unmasked one when
 * that is masked, so that the row's text is kept masked too.
 */
static void
add_problem_row(PtImport *imp, const PtCsvRow *row, bool failed,
				const char *internal_id, const char *clear_id)
{
	PtProblemRow *out;

	if (imp->nproblem_rows == imp->maxproblem_rows)
	{
		imp->maxproblem_rows = imp->maxproblem_rows ? imp->maxproblem_rows * 2 : 16;
		imp->problem_rows = imp->problem_rows ?
			repalloc_huge(imp->problem_rows, imp->maxproblem_rows * sizeof(PtProblemRow)) :
			palloc(imp->maxproblem_rows * sizeof(PtProblemRow));
	}
	out = &imp->problem_rows[imp->nproblem_rows++];
	out->line_no = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
	out->failed = failed;
	out->raw_offset = row->raw_offset;
	out->raw_length = row->raw_length;
	out->internal_id = internal_id;
	out->national_id = clear_id != NULL;
	out->masked_raw = clear_id == NULL ? NULL :
		pt_replace_all(pnstrdup(imp->data + row->raw_offset, row->raw_length),
					   clear_id, internal_id);
}

/* Copies the row's problems into the report. */
static void
add_issues(PtImport *imp, const PtCsvRow *row, const PtRowResult *result)
{
	size_t		id_len;
	const char *id = pt_row_value(row, imp->read.map.column[PT_FIELD_INTERNAL_ID], &id_len);
	char	   *internal_id;
	char	   *raw_line;
	char	   *clear_id = NULL;
	int			i;

	/* A header row has no internal_id; a kept one is shown clean. */
	if (imp->read.header_line == 0 || row->line_no != imp->read.header_line)
	{
		if (result->keep[PT_FIELD_INTERNAL_ID])
		{
			id = result->value[PT_FIELD_INTERNAL_ID];
			id_len = result->length[PT_FIELD_INTERNAL_ID];
		}
	}
	else
		id_len = 0;
	internal_id = id_len > 0 ? clipped(id, id_len, PT_MAX_INTERNAL_ID * 4) : NULL;
	raw_line = clipped(imp->data + row->raw_offset, row->raw_length, PT_RAW_LINE_MAX);

	/* An internal_id that looks like a national id is not kept in full. */
	for (i = 0; i < result->nissues; i++)
		if (result->issues[i].code == PT_NATIONAL_ID && internal_id != NULL)
			clear_id = internal_id;
	if (clear_id != NULL)
	{
		internal_id = palloc(strlen(clear_id) + 1);
		pt_mask_national_id(clear_id, strlen(clear_id), internal_id);
		raw_line = pt_replace_all(raw_line, clear_id, internal_id);
	}
	/* (the header row is kept apart, as the file's header) */
	if (imp->read.header_line == 0 || row->line_no != imp->read.header_line)
		add_problem_row(imp, row, result->failed, internal_id, clear_id);

	for (i = 0; i < result->nissues; i++)
	{
		const PtIssue *issue = &result->issues[i];
		PtReportedIssue *out = new_issue(imp);

		out->line_no = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
		out->internal_id = internal_id;
		out->severity = issue->severity;
		out->field = issue->field;
		out->code = issue->code;
		out->message = pt_db_text(issue->message, strlen(issue->message), NULL);
		out->raw_line = raw_line;
	}
}

/* A new entry at the end of the report. */
static PtReportedIssue *
new_issue(PtImport *imp)
{
	PtReportedIssue *issue;

	if (imp->nissues == imp->maxissues)
	{
		imp->maxissues *= 2;
		imp->issues = repalloc_huge(imp->issues, imp->maxissues * sizeof(PtReportedIssue));
	}
	issue = &imp->issues[imp->nissues];
	issue->seq = imp->nissues++;
	return issue;
}

/*
 * Reports that the mode refuses collected client number client (0-based),
 * whose internal_id is internal_id: the row becomes a failed row.  The
 * report is put back in line order by pt_sort_issues.  Called inside SPI,
 * it allocates in the import's context, which the report outlives SPI in.
 */
void
pt_refuse_client(PtImport *imp, int client, const char *internal_id)
{
	MemoryContext old = MemoryContextSwitchTo(imp->cxt);
	const PtClientRef *ref = &imp->client_refs[client];
	int32		line_no = imp->client_lines[client];
	bool		national_id = pt_looks_like_national_id(internal_id, strlen(internal_id));
	char	   *raw_line = clipped(imp->data + ref->raw_offset, ref->raw_length, PT_RAW_LINE_MAX);
	PtIssue		issue;
	PtReportedIssue *out;
	PtCsvRow	row;
	int			lo = 0;
	int			hi = imp->nproblem_rows_read;

	const char *clear_id = NULL;

	if (national_id)
	{
		char	   *masked = palloc(strlen(internal_id) + 1);

		pt_mask_national_id(internal_id, strlen(internal_id), masked);
		raw_line = pt_replace_all(raw_line, internal_id, masked);
		clear_id = internal_id;
		internal_id = masked;
	}
	pt_refused_issue(&issue, imp->mode == PT_MODE_INSERT);
	out = new_issue(imp);
	out->line_no = line_no;
	out->internal_id = pstrdup(internal_id);
	out->severity = issue.severity;
	out->field = issue.field;
	out->code = issue.code;
	out->message = pt_db_text(issue.message, strlen(issue.message), NULL);
	out->raw_line = raw_line;
	imp->rows_failed++;
	if (ref->warned)
		imp->rows_warned--;

	/*
	 * The row has failed: one with warnings is among the problem rows found
	 * reading the file already (the sorted ones), else it is added.
	 */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (imp->problem_rows[mid].line_no < line_no)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < imp->nproblem_rows_read && imp->problem_rows[lo].line_no == line_no)
		imp->problem_rows[lo].failed = true;
	else
	{
		memset(&row, 0, sizeof(row));
		row.line_no = line_no;
		row.raw_offset = ref->raw_offset;
		row.raw_length = ref->raw_length;
		add_problem_row(imp, &row, true, out->internal_id, clear_id);
	}
	MemoryContextSwitchTo(old);
}

static int
issue_order(const void *a, const void *b)
{
	const PtReportedIssue *x = a;
	const PtReportedIssue *y = b;

	if (x->line_no != y->line_no)
		return x->line_no < y->line_no ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Puts the report in line order, each line's problems in the order found. */
void
pt_sort_issues(PtImport *imp)
{
	if (imp->nissues > 1)
		qsort(imp->issues, imp->nissues, sizeof(PtReportedIssue), issue_order);
}

/*
 * A UTF-8 value in the database's encoding.  The result may point into the
 * input (it is then not NUL-terminated: use *out_len).
 */
char *
pt_db_text(const char *s, size_t len, size_t *out_len)
{
	char	   *result;

	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
	{
		if (out_len)
			*out_len = len;
		else
			return pnstrdup(s, len);
		return (char *) s;
	}
	result = (char *) pg_do_encoding_conversion((unsigned char *) pnstrdup(s, len), (int) len,
												PG_UTF8, GetDatabaseEncoding());
	if (out_len)
		*out_len = strlen(result);
	return result;
}

/* At most max bytes of a value, cut on a character boundary, marked "...". */
static char *
clipped(const char *s, size_t len, size_t max)
{
	size_t		keep;
	char	   *text;

	if (len <= max)
		return pt_db_text(s, len, NULL);
	keep = pg_encoding_mbcliplen(PG_UTF8, s, (int) len, (int) max);
	text = pt_db_text(s, keep, NULL);
	return psprintf("%s...", text);
}

/* libcsv's allocator: realloc(NULL, n) must allocate, so map it to palloc. */
void *
pt_reader_realloc(void *ptr, size_t size)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge(CurrentMemoryContext, size);
	return repalloc_huge(ptr, size);
}

void
pt_reader_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * If key was seen before, sets *value to what was stored with it and returns
 * true; otherwise stores *value with a copy of key and returns false.  The
 * key is appended to imp->seen_keys to be looked up, and taken back if it
 * was there already.
 */
static bool
seen_lookup(PtImport *imp, pt_seen_hash *seen, const char *key, int64 *value)
{
	StringInfo	keys = &imp->seen_keys;
	int			offset = keys->len;
	PtSeen	   *entry;
	bool		found;

	appendBinaryStringInfo(keys, key, strlen(key) + 1);
	entry = pt_seen_insert(seen, (uint32) offset, &found);
	if (found)
	{
		keys->len = offset;
		*value = entry->value;
		return true;
	}
	/* a file has fewer than 2^31 lines: it is under 1 GB */
	entry->value = (int32) *value;
	return false;
}
